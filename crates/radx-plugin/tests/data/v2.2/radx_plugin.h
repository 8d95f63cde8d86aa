/*
 * radx_plugin.h — the radx plugin ABI (2.2: major 2, minor 2) for C (and anything that speaks C).
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
 * A plugin with image filters (ABI 2.2) also exports
 *     const RadxFilterTable *radx_plugin_filters(void);
 * (see the end of this header).
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
#define RADX_PLUGIN_ABI_MINOR 2u
#define RADX_OK 0
#define RADX_ERROR 1
#define RADX_MAX_MATRIX_DIMS 4
/* RadxFeatureDesc.margin_mm asking for the whole processed image (any negative value or
 * infinity does). */
#define RADX_MARGIN_WHOLE_IMAGE (-1.0)

/* Kinds of RadxParamDesc.kind (ABI 2.2). Every value crosses as a double: an integer's
 * value, or 0.0 / 1.0 for a flag. */
#define RADX_PARAM_INT 1
#define RADX_PARAM_FLOAT 2
#define RADX_PARAM_BOOL 3

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

/* ABI 2.2: one typed parameter of a feature; users set it in the settings, radx checks
 * the kind and the range before any image is read. */
typedef struct RadxParamDesc {
    size_t struct_size;      /* sizeof(RadxParamDesc) */
    const char *name;        /* letters, digits, _; not starting with a digit */
    int32_t kind;            /* RADX_PARAM_INT, RADX_PARAM_FLOAT or RADX_PARAM_BOOL */
    double default_value;    /* the value when the user gives none */
    double min;              /* smallest allowed value (inclusive), -INFINITY for none */
    double max;              /* largest allowed value (inclusive), INFINITY for none */
} RadxParamDesc;

/* ABI 2.2: the values compute_values returns, owned by the plugin until release (NULL:
 * valid until the next call on the same thread, e.g. a _Thread_local buffer). */
typedef struct RadxValuesOut {
    const double *data;
    size_t len;              /* 1 unless the feature is a profile */
    void *owner;
    void (*release)(struct RadxValuesOut *out);
} RadxValuesOut;

/* args: the n_args parameter values, in the order the feature declares them. */
typedef int32_t (*RadxComputeValuesFn)(void *context, const RadxInput *input, const double *args, size_t n_args,
                                       RadxValuesOut *out);

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
    /* ABI 2.2 */
    const RadxParamDesc *params; /* the feature's parameters, or NULL */
    size_t n_params;
    size_t param_size;       /* sizeof(RadxParamDesc): the table's stride */
    uint32_t profile;        /* nonzero: compute_values returns a vector, one row feature[i] each */
    RadxComputeValuesFn compute_values; /* NULL: radx calls compute (which then uses the
                              * parameters' defaults, as a radx older than 2.2 does) */
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

/* ---- ABI 2.2: filter plugins, behind their own optional symbol ----
 * A filter turns an image into a response on the same grid; settings files select it by
 * name ([[filter]] kind = "plugin", name = "...") and its response feeds every feature
 * family, its rows under the filter's name. The host owns the image and the output
 * buffer, both valid for the call only; the filter writes every voxel of out. Filters
 * run concurrently on many threads (one call per case and filter), with the context init
 * stored; errors go through the descriptor's last_error, as for features. */

/* The image a filter filters: the processed image cropped to the ROI's neighbourhood grown
 * by the filter's margin (or whole), x-fastest, and its spacing (mm). */
typedef struct RadxFilterInput {
    size_t struct_size;      /* sizeof(RadxFilterInput) as the host built it */
    RadxImageView image;
    const char *params_json; /* JSON object: every declared parameter, set or default */
} RadxFilterInput;

/* Writes out_len (= the image's voxel count) values to out, x-fastest; RADX_OK or RADX_ERROR. */
typedef int32_t (*RadxFilterFn)(void *context, const RadxFilterInput *input, double *out, size_t out_len);

typedef struct RadxFilterDesc {
    size_t struct_size;      /* sizeof(RadxFilterDesc) */
    const char *name;        /* unique among plugins; an identifier (letters, digits, _) that is
                              * not a built-in filter kind; the image type of its rows */
    const char *description; /* one line */
    size_t margin_voxels[3]; /* voxels along x, y, z the response at a voxel reads around it
                              * (1 for a 3x3x3 kernel) */
    double margin_mm;        /* also this far in mm (the wider wins): 0 none, negative or
                              * infinite (RADX_MARGIN_WHOLE_IMAGE) the whole image; not NaN */
    const char *boundary;    /* past the edges: "zero", "nearest", "periodic" (the host then
                              * passes the whole image) or "mirror" (IBSI-2 names) */
    const char *params;      /* JSON object of parameters and defaults (as RadxSourceDesc's), or
                              * NULL / "{}" for none */
    size_t working_volumes;  /* image-sized double buffers the filter allocates at its peak,
                              * beyond input and out (radx's memory budget); 0 for none */
    RadxFilterFn apply;
} RadxFilterDesc;

typedef struct RadxFilterTable {
    uint32_t abi_version;    /* RADX_PLUGIN_ABI */
    uint32_t abi_minor;      /* RADX_PLUGIN_ABI_MINOR (2 or later) */
    size_t struct_size;      /* sizeof(RadxFilterTable) */
    const RadxFilterDesc *filters;
    size_t n_filters;
    size_t filter_size;      /* sizeof(RadxFilterDesc): the table's stride */
} RadxFilterTable;

typedef const RadxFilterTable *(*RadxFiltersFn)(void);

/* Optional second symbol: a plugin's filters. */
RADX_EXPORT const RadxFilterTable *radx_plugin_filters(void);

#ifdef __cplusplus
}
#endif

#endif /* RADX_PLUGIN_H */
