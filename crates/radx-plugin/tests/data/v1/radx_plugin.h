/*
 * radx_plugin.h — the radx plugin ABI for C (and anything that speaks C).
 *
 * Hand-kept mirror of crates/radx-plugin/src/lib.rs; the test
 * crates/radx-plugin/tests/it/mechanics_header_layout.rs compiles this header and checks every
 * size and field offset against the Rust definitions. Bump RADX_PLUGIN_ABI on ANY
 * change to a struct or a calling convention.
 *
 * A plugin is a shared library exporting one symbol:
 *     const RadxPluginDesc *radx_plugin_entry(void);
 * returning a pointer to static data. All strings are static NUL-terminated UTF-8.
 *
 * Everything the host passes is borrowed and read-only for the duration of the call.
 * Volumes are x-fastest: index = x + nx * (y + ny * z). Matrices are row-major.
 * Calls return RADX_OK, or RADX_ERROR with a message behind last_error() (read by the
 * host on the same thread right after the failed call). A matrix built by a source is
 * allocated by the plugin and freed by the plugin's own release callback.
 */
#ifndef RADX_PLUGIN_H
#define RADX_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RADX_PLUGIN_ABI 1u
#define RADX_OK 0
#define RADX_ERROR 1
#define RADX_MAX_MATRIX_DIMS 4

/* Mark the entry point exported even when building with -fvisibility=hidden. */
#if defined(_WIN32)
#define RADX_EXPORT __declspec(dllexport)
#else
#define RADX_EXPORT __attribute__((visibility("default")))
#endif

/* The cropped image: dims[0]*dims[1]*dims[2] intensities, x-fastest. */
typedef struct RadxImageView {
    const double *data;
    size_t dims[3];
    double spacing[3]; /* mm, x y z */
} RadxImageView;

/* A mask on the image grid: one byte per voxel, 0 outside, 1 inside. */
typedef struct RadxMaskView {
    const uint8_t *data;
    size_t dims[3];
} RadxMaskView;

/* Discretised grey levels 1..ng inside the intensity mask, 0 outside; data NULL and
 * ng 0 when no discretisation was configured. */
typedef struct RadxLevelsView {
    const uint16_t *data;
    size_t dims[3];
    size_t ng;
} RadxLevelsView;

/* A vector of doubles (data may be NULL when len is 0). */
typedef struct RadxValuesView {
    const double *data;
    size_t len;
} RadxValuesView;

/* A dense row-major matrix; axis_values[a] holds shape[a] values or is NULL
 * (positions 0..shape[a]-1). Entries beyond ndim are 0 / NULL. */
typedef struct RadxMatrixView {
    const double *data;
    size_t ndim;
    size_t shape[RADX_MAX_MATRIX_DIMS];
    const double *axis_values[RADX_MAX_MATRIX_DIMS];
} RadxMatrixView;

/* Everything a plugin may see of one region of interest. */
typedef struct RadxInput {
    RadxImageView image;
    RadxMaskView morphological_mask;
    RadxMaskView intensity_mask;
    RadxValuesView intensities;      /* intensity-mask voxels, x-fastest order */
    RadxLevelsView levels;
    const RadxMatrixView *matrices;  /* the feature's source matrices, if it declared one */
    size_t n_matrices;
} RadxInput;

/* A matrix built by a plugin source, owned by the plugin until release(). */
typedef struct RadxMatrixOut {
    RadxMatrixView matrix;
    void *owner;
    void (*release)(struct RadxMatrixOut *matrix);
} RadxMatrixOut;

typedef int32_t (*RadxComputeFn)(const RadxInput *input, double *out);
/* params: NUL-terminated JSON object, "{}" when none were given. */
typedef int32_t (*RadxBuildFn)(const RadxInput *input, const char *params, RadxMatrixOut *out);
typedef void (*RadxReleaseFn)(RadxMatrixOut *matrix);
typedef const char *(*RadxLastErrorFn)(void);

typedef struct RadxFeatureDesc {
    const char *name;        /* unique within the plugin */
    const char *tag;         /* IBSI permanent tag, or a site tag such as "SITE-0001" */
    const char *description; /* one line */
    const char *source;      /* NULL, or the source whose matrices the host passes */
    RadxComputeFn compute;
} RadxFeatureDesc;

typedef struct RadxSourceDesc {
    const char *name;        /* used in feature files as `over NAME(...)` */
    const char *description; /* one line, including the meaning of the axes */
    size_t ndim;             /* axes of every matrix build() returns, 1..RADX_MAX_MATRIX_DIMS */
    const char *params;      /* JSON object of parameters and defaults, e.g.
                              * "{\"rotation_invariant\": false}"; NULL or "{}" for none.
                              * JSON type = kind: true/false, 1 (integer), 0.5 (real), "s". */
    RadxBuildFn build;
} RadxSourceDesc;

typedef struct RadxPluginDesc {
    uint32_t abi_version;    /* RADX_PLUGIN_ABI; first field in every ABI version */
    const char *name;
    const char *version;
    const RadxFeatureDesc *features;
    size_t n_features;
    const RadxSourceDesc *sources;
    size_t n_sources;
    RadxLastErrorFn last_error;
} RadxPluginDesc;

typedef const RadxPluginDesc *(*RadxEntryFn)(void);

/* The one symbol a plugin exports. */
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* RADX_PLUGIN_H */
