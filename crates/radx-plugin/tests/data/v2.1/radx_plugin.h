/*
 * radx_plugin.h — the radx plugin ABI (2.1: major 2, minor 1) for C (and anything that speaks C).
 *
 * Hand-kept mirror of crates/radx-plugin/src/lib.rs; the test
 * crates/radx-plugin/tests/it/mechanics_header_layout.rs compiles this header and checks every
 * size and field offset against the Rust definitions.
 *
 * Versioning: RADX_PLUGIN_ABI is the major version, the first field of every descriptor in
 * every version; it changes only when old plugins or hosts could not read a struct. Fields
 * are only ever appended (RADX_PLUGIN_ABI_MINOR goes up): every struct starts with (or, for
 * the descriptor, carries) its size as built, and each side reads only the fields both
 * have. radx 2.x still loads plugins built against ABI 1.
 *
 * A plugin is a shared library exporting one symbol:
 *     const RadxPluginDesc *radx_plugin_entry(void);
 * returning a pointer to static data. All strings are static NUL-terminated UTF-8.
 *
 * Everything the host passes is borrowed and read-only for the duration of the call.
 * Volumes are x-fastest: index = x + nx * (y + ny * z). Matrices are row-major.
 * Calls return RADX_OK, or RADX_ERROR with a message behind last_error() (read by the
 * host on the same thread right after the failed call; null after a successful call).
 * A matrix built by a source is allocated by the plugin and freed by the plugin's own
 * release callback. compute/build may run on many threads at once, with the same context.
 */
#ifndef RADX_PLUGIN_H
#define RADX_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RADX_PLUGIN_ABI 2u
#define RADX_PLUGIN_ABI_MINOR 1u
#define RADX_OK 0
#define RADX_ERROR 1
#define RADX_MAX_MATRIX_DIMS 4
/* RadxFeatureDesc.margin_mm asking for the whole processed image (any negative value or
 * infinity does). */
#define RADX_MARGIN_WHOLE_IMAGE (-1.0)

/* Log levels of RadxHost.log. */
#define RADX_LOG_ERROR 1
#define RADX_LOG_WARN 2
#define RADX_LOG_INFO 3
#define RADX_LOG_DEBUG 4

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

/* Where the cropped box lies, in the world (mm) and in the processed image. */
typedef struct RadxGeometry {
    double origin[3];       /* world position of the centre of box voxel [0,0,0] */
    double direction[9];    /* row-major 3x3 direction cosines; column c = index axis c */
    size_t box_offset[3];   /* index of box voxel [0,0,0] in the processed image */
    size_t image_dims[3];   /* voxels of the processed image along x, y, z */
} RadxGeometry;

/* ABI 2.1: the processed image and the ROI's masks around the ROI's box, grown by the
 * feature's margin_mm (clamped to what radx has). image.data is NULL (dims 0) when the
 * feature declared no margin. The ROI's box starts box_offset - offset voxels into it. */
typedef struct RadxRegionView {
    RadxImageView image;
    RadxMaskView morphological_mask;
    RadxMaskView intensity_mask;
    size_t offset[3];                /* index of region voxel [0,0,0] in the processed image */
} RadxRegionView;

/* Everything a plugin may see of one region of interest. Fields past struct_size are
 * absent (an older radx): check before reading one, e.g.
 * input->struct_size >= offsetof(RadxInput, margin) + sizeof input->margin. */
typedef struct RadxInput {
    size_t struct_size;              /* sizeof(RadxInput) as the host built it */
    RadxImageView image;
    RadxMaskView morphological_mask;
    RadxMaskView intensity_mask;
    RadxValuesView intensities;      /* intensity-mask voxels, x-fastest order */
    RadxLevelsView levels;
    const RadxMatrixView *matrices;  /* the feature's source matrices, if it declared one */
    size_t n_matrices;
    RadxGeometry geometry;
    const char *case_id;             /* the case's id, or NULL (e.g. radx extract) */
    int64_t label;                   /* the ROI's label; 0 = every non-zero label */
    /* ABI 2.1 */
    const char *settings_json;       /* the case's effective settings, a JSON object, or NULL */
    RadxRegionView margin;           /* around the ROI, if the feature declared margin_mm */
} RadxInput;

/* A matrix built by a plugin source, owned by the plugin until release(). */
typedef struct RadxMatrixOut {
    RadxMatrixView matrix;
    void *owner;
    void (*release)(struct RadxMatrixOut *matrix);
} RadxMatrixOut;

/* context: what init stored in *context (NULL without init). */
typedef int32_t (*RadxComputeFn)(void *context, const RadxInput *input, double *out);
/* params: NUL-terminated JSON object, "{}" when none were given. */
typedef int32_t (*RadxBuildFn)(void *context, const RadxInput *input, const char *params, RadxMatrixOut *out);
typedef void (*RadxReleaseFn)(RadxMatrixOut *matrix);
typedef const char *(*RadxLastErrorFn)(void);
typedef void (*RadxLogFn)(void *host_data, int32_t level, const char *message);
typedef int32_t (*RadxCancelledFn)(void *host_data);

/* What the host offers at init; valid for the life of the process. */
typedef struct RadxHost {
    size_t struct_size;      /* sizeof(RadxHost) as the host built it */
    uint32_t abi_major;
    uint32_t abi_minor;
    void *host_data;         /* pass back to log */
    RadxLogFn log;           /* any thread, any time; NULL when the host takes no logs */
    /* ABI 2.1 */
    RadxCancelledFn cancelled; /* nonzero while the run is being cancelled (stop early with
                              * RADX_ERROR); any thread, any time; NULL when not offered */
} RadxHost;

/* Optional: once after loading, before any other call; may set *context. RADX_ERROR (with
 * last_error) refuses the load. */
typedef int32_t (*RadxInitFn)(const RadxHost *host, void **context);
/* Optional: once when radx is done with the plugin (no call in flight or to come). */
typedef void (*RadxShutdownFn)(void *context);

typedef struct RadxFeatureDesc {
    size_t struct_size;      /* sizeof(RadxFeatureDesc) */
    const char *name;        /* unique within the plugin */
    const char *tag;         /* IBSI permanent tag, or a site tag such as "SITE-0001" */
    const char *description; /* one line */
    const char *source;      /* NULL, or the source whose matrices the host passes */
    RadxComputeFn compute;
    /* ABI 2.1 */
    double margin_mm;        /* mm around the ROI's box in input->margin: 0 none, > 0 that
                              * far, negative or infinite (RADX_MARGIN_WHOLE_IMAGE) all */
} RadxFeatureDesc;

typedef struct RadxSourceDesc {
    size_t struct_size;      /* sizeof(RadxSourceDesc) */
    const char *name;        /* used in feature files as `over NAME(...)` */
    const char *description; /* one line, including the meaning of the axes */
    size_t ndim;             /* axes of every matrix build() returns, 1..RADX_MAX_MATRIX_DIMS */
    const char *params;      /* JSON object of parameters and defaults, e.g.
                              * "{\"rotation_invariant\": false}"; NULL or "{}" for none.
                              * JSON type = kind: true/false, 1 (integer), 0.5 (real), "s". */
    RadxBuildFn build;
} RadxSourceDesc;

typedef struct RadxPluginDesc {
    uint32_t abi_version;    /* RADX_PLUGIN_ABI (major); first field in every ABI version */
    uint32_t abi_minor;      /* RADX_PLUGIN_ABI_MINOR */
    size_t struct_size;      /* sizeof(RadxPluginDesc) */
    const char *name;
    const char *version;
    const RadxFeatureDesc *features;
    size_t n_features;
    size_t feature_size;     /* sizeof(RadxFeatureDesc): the table's stride */
    const RadxSourceDesc *sources;
    size_t n_sources;
    size_t source_size;      /* sizeof(RadxSourceDesc): the table's stride */
    RadxLastErrorFn last_error;
    RadxInitFn init;         /* may be NULL */
    RadxShutdownFn shutdown; /* may be NULL */
} RadxPluginDesc;

typedef const RadxPluginDesc *(*RadxEntryFn)(void);

/* The one symbol a plugin exports. */
RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* RADX_PLUGIN_H */
