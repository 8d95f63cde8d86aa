/*
 * plugins/c-example/example.c — a radx plugin in plain C, using only radx_plugin.h (ABI 2.2).
 *
 * Build:  cc -shared -fPIC -I crates/radx-plugin/include plugins/c-example/example.c \
 *            -o libradx_c_example.so
 *
 * Features:
 *   roi_volume_mm3  the morphological mask's volume: voxel count × voxel volume (mm³).
 *                   Deliberately the simple voxel-counting volume (IBSI 3.1.2, "YEKZ"),
 *                   not the mesh volume, so it can carry that tag.
 *   always_fails    returns RADX_ERROR with a message: shows how a C plugin reports an
 *                   error; radx reports that feature failed and goes on with the others.
 *   box_offset_z    the index of the ROI box's first slice in the processed image
 *                   (input->geometry): where the box a plugin sees lies in the image.
 *   box_origin_z_mm the world z (mm) of the centre of the box's first voxel.
 *   outside_2mm     voxels outside the ROI in its box grown by 2 mm (ABI 2.1: the feature
 *                   declares margin_mm = 2 and reads input->margin, after checking that
 *                   radx's input has that field at all).
 *   mean_above      (ABI 2.2, parameters) the mean of the ROI's intensities above t
 *                   (float, default 0, any value); strict (bool, default false) leaves out
 *                   the intensities equal to t. Rows: mean_above(t=100;strict=false).
 *   slice_voxels    (ABI 2.2, a profile) the number of ROI voxels in each z slice of the
 *                   ROI's box: rows slice_voxels[0], slice_voxels[1], ... (malloc'd values
 *                   handed to radx with a release callback that frees them).
 *
 * Filter (ABI 2.2, the second symbol radx_plugin_filters):
 *   binomial_mean3  a 3x3x3 weighted mean: weights 1, 2, 1 along each axis (64 in all);
 *                   past the image's edges the edge voxel is repeated ("nearest"). Settings
 *                   select it with [[filter]] kind = "plugin", name = "binomial_mean3".
 *
 * Lifecycle: init allocates a context (here: the unit volumes are reported in, mm³ = 1)
 * that every call receives, and says hello through the host's log; shutdown frees it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radx_plugin.h"

/* The message of the last call on this thread, if it failed ("" otherwise): radx may call
 * features from several threads at once. */
static _Thread_local char last_error_message[256];

static const char *last_error(void) { return last_error_message[0] ? last_error_message : NULL; }

/* Shared by every call, on any thread: read-only after init. */
typedef struct Context {
    double mm3_per_unit;
} Context;

static int32_t example_init(const RadxHost *host, void **context) {
    last_error_message[0] = '\0';
    Context *c = malloc(sizeof *c);
    if (c == NULL) {
        snprintf(last_error_message, sizeof last_error_message, "c-example: out of memory");
        return RADX_ERROR;
    }
    c->mm3_per_unit = 1.0;
    *context = c;
    /* Fields past the host's struct_size are absent: check before using a newer one. */
    if (host != NULL && host->struct_size >= offsetof(RadxHost, log) + sizeof host->log && host->log != NULL) {
        host->log(host->host_data, RADX_LOG_INFO, "c-example initialised (volumes in mm^3)");
    }
    return RADX_OK;
}

static void example_shutdown(void *context) { free(context); }

static int32_t roi_volume_mm3(void *context, const RadxInput *input, double *out) {
    last_error_message[0] = '\0';
    if (context == NULL || input == NULL || out == NULL || input->morphological_mask.data == NULL) {
        snprintf(last_error_message, sizeof last_error_message, "roi_volume_mm3: no context or mask given");
        return RADX_ERROR;
    }
    const size_t *d = input->morphological_mask.dims;
    size_t n = d[0] * d[1] * d[2];
    size_t inside = 0;
    for (size_t i = 0; i < n; i++) {
        inside += input->morphological_mask.data[i] != 0;
    }
    const double *s = input->image.spacing;
    *out = (double)inside * s[0] * s[1] * s[2] / ((const Context *)context)->mm3_per_unit;
    return RADX_OK;
}

static int32_t always_fails(void *context, const RadxInput *input, double *out) {
    (void)context;
    (void)input;
    (void)out;
    snprintf(last_error_message, sizeof last_error_message,
             "always_fails: this feature is not defined for any ROI (by design)");
    return RADX_ERROR;
}

static int32_t box_offset_z(void *context, const RadxInput *input, double *out) {
    (void)context;
    last_error_message[0] = '\0';
    *out = (double)input->geometry.box_offset[2];
    return RADX_OK;
}

static int32_t box_origin_z_mm(void *context, const RadxInput *input, double *out) {
    (void)context;
    last_error_message[0] = '\0';
    *out = input->geometry.origin[2];
    return RADX_OK;
}

static int32_t outside_2mm(void *context, const RadxInput *input, double *out) {
    (void)context;
    last_error_message[0] = '\0';
    /* A field past the host's struct_size is absent: a radx older than 2.1 has no margin. */
    if (input->struct_size < offsetof(RadxInput, margin) + sizeof input->margin || input->margin.image.data == NULL) {
        snprintf(last_error_message, sizeof last_error_message, "outside_2mm: radx passed no margin region");
        return RADX_ERROR;
    }
    const size_t *d = input->margin.morphological_mask.dims;
    size_t outside = 0;
    for (size_t i = 0; i < d[0] * d[1] * d[2]; i++) {
        outside += input->margin.morphological_mask.data[i] == 0;
    }
    *out = (double)outside;
    return RADX_OK;
}

/* The mean of the intensities above args[0] (t); args[1] (strict) != 0 leaves out t itself. */
static int32_t mean_above_values(void *context, const RadxInput *input, const double *args, size_t n_args,
                                 RadxValuesOut *out) {
    (void)context;
    last_error_message[0] = '\0';
    if (n_args != 2) {
        snprintf(last_error_message, sizeof last_error_message, "mean_above: expected 2 parameters, got %zu", n_args);
        return RADX_ERROR;
    }
    static _Thread_local double result;
    double sum = 0.0;
    size_t n = 0;
    for (size_t i = 0; i < input->intensities.len; i++) {
        double v = input->intensities.data[i];
        if (v > args[0] || (args[1] == 0.0 && v == args[0])) {
            sum += v;
            n++;
        }
    }
    if (n == 0) {
        snprintf(last_error_message, sizeof last_error_message, "mean_above: no intensity above %g", args[0]);
        return RADX_ERROR;
    }
    result = sum / (double)n;
    /* One value, valid until this thread's next call: no release needed. */
    out->data = &result;
    out->len = 1;
    out->owner = NULL;
    out->release = NULL;
    return RADX_OK;
}

/* What a radx older than 2.2 calls: the parameters' defaults. */
static int32_t mean_above(void *context, const RadxInput *input, double *out) {
    const double defaults[2] = {0.0, 0.0};
    RadxValuesOut values;
    int32_t status = mean_above_values(context, input, defaults, 2, &values);
    if (status == RADX_OK) {
        *out = values.data[0];
    }
    return status;
}

static void free_values(RadxValuesOut *out) {
    free(out->owner);
    out->owner = NULL;
    out->data = NULL;
}

static int32_t slice_voxels_values(void *context, const RadxInput *input, const double *args, size_t n_args,
                                   RadxValuesOut *out) {
    (void)context;
    (void)args;
    (void)n_args;
    last_error_message[0] = '\0';
    const size_t *d = input->morphological_mask.dims;
    double *counts = calloc(d[2] > 0 ? d[2] : 1, sizeof *counts);
    if (counts == NULL) {
        snprintf(last_error_message, sizeof last_error_message, "slice_voxels: out of memory");
        return RADX_ERROR;
    }
    for (size_t z = 0; z < d[2]; z++) {
        for (size_t i = 0; i < d[0] * d[1]; i++) {
            counts[z] += input->morphological_mask.data[z * d[0] * d[1] + i] != 0;
        }
    }
    out->data = counts;
    out->len = d[2];
    out->owner = counts;
    out->release = free_values;
    return RADX_OK;
}

/* A radx older than 2.2 cannot take a profile. */
static int32_t slice_voxels(void *context, const RadxInput *input, double *out) {
    (void)context;
    (void)input;
    (void)out;
    snprintf(last_error_message, sizeof last_error_message, "slice_voxels: a profile needs radx with ABI 2.2");
    return RADX_ERROR;
}

static const RadxParamDesc mean_above_params[] = {
    {.struct_size = sizeof(RadxParamDesc), .name = "t", .kind = RADX_PARAM_FLOAT, .default_value = 0.0,
     .min = -HUGE_VAL, .max = HUGE_VAL},
    {.struct_size = sizeof(RadxParamDesc), .name = "strict", .kind = RADX_PARAM_BOOL, .default_value = 0.0,
     .min = 0.0, .max = 1.0},
};

/* Entries without parameters leave the ABI 2.2 fields NULL/0: radx calls their compute. */
#define NO_PARAMS NULL, 0, sizeof(RadxParamDesc), 0, NULL

static const RadxFeatureDesc features[] = {
    {sizeof(RadxFeatureDesc), "roi_volume_mm3", "YEKZ", "Approximate volume: voxel count times voxel volume (mm^3)",
     NULL, roi_volume_mm3, 0.0, NO_PARAMS},
    {sizeof(RadxFeatureDesc), "always_fails", "SITE-0001", "Always reports an error (demonstrates error returns)",
     NULL, always_fails, 0.0, NO_PARAMS},
    {sizeof(RadxFeatureDesc), "box_offset_z", "SITE-0002", "Index of the ROI box's first slice in the image", NULL,
     box_offset_z, 0.0, NO_PARAMS},
    {sizeof(RadxFeatureDesc), "box_origin_z_mm", "SITE-0003", "World z (mm) of the ROI box's first voxel", NULL,
     box_origin_z_mm, 0.0, NO_PARAMS},
    {sizeof(RadxFeatureDesc), "outside_2mm", "SITE-0004", "Voxels outside the ROI in its box grown by 2 mm", NULL,
     outside_2mm, 2.0, NO_PARAMS},
    {.struct_size = sizeof(RadxFeatureDesc), .name = "mean_above", .tag = "SITE-0005",
     .description = "Mean of the ROI's intensities above t (strict: leaving out t itself)", .source = NULL,
     .compute = mean_above, .margin_mm = 0.0, .params = mean_above_params,
     .n_params = sizeof mean_above_params / sizeof mean_above_params[0], .param_size = sizeof(RadxParamDesc),
     .profile = 0, .compute_values = mean_above_values},
    {.struct_size = sizeof(RadxFeatureDesc), .name = "slice_voxels", .tag = "SITE-0006",
     .description = "ROI voxels in each z slice of the ROI's box (a profile)", .source = NULL,
     .compute = slice_voxels, .margin_mm = 0.0, .params = NULL, .n_params = 0, .param_size = sizeof(RadxParamDesc),
     .profile = 1, .compute_values = slice_voxels_values},
};

static const RadxPluginDesc descriptor = {
    RADX_PLUGIN_ABI,
    RADX_PLUGIN_ABI_MINOR,
    sizeof(RadxPluginDesc),
    "c-example",
    "0.3.0",
    features,
    sizeof features / sizeof features[0],
    sizeof(RadxFeatureDesc),
    NULL,
    0,
    sizeof(RadxSourceDesc),
    last_error,
    example_init,
    example_shutdown,
};

RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }

/* The in-image index of n on an axis of len voxels under "nearest": the edge repeated. */
static size_t nearest(ptrdiff_t n, size_t len) {
    if (n < 0) {
        return 0;
    }
    return (size_t)n >= len ? len - 1 : (size_t)n;
}

/* Writes every voxel of out; reads only the host's image (no shared state: radx calls it
 * from several threads at once). */
static int32_t binomial_mean3(void *context, const RadxFilterInput *input, double *out, size_t out_len) {
    (void)context;
    last_error_message[0] = '\0';
    const size_t *d = input->image.dims;
    if (input->image.data == NULL || d[0] * d[1] * d[2] != out_len) {
        snprintf(last_error_message, sizeof last_error_message, "binomial_mean3: no image, or not out_len voxels");
        return RADX_ERROR;
    }
    static const double w[3] = {1.0, 2.0, 1.0};
    const double *v = input->image.data;
    for (size_t z = 0; z < d[2]; z++) {
        for (size_t y = 0; y < d[1]; y++) {
            for (size_t x = 0; x < d[0]; x++) {
                double sum = 0.0;
                for (int c = 0; c < 3; c++) {
                    size_t k = nearest((ptrdiff_t)z + c - 1, d[2]);
                    for (int b = 0; b < 3; b++) {
                        size_t j = nearest((ptrdiff_t)y + b - 1, d[1]);
                        for (int a = 0; a < 3; a++) {
                            size_t i = nearest((ptrdiff_t)x + a - 1, d[0]);
                            sum += w[a] * w[b] * w[c] * v[i + d[0] * (j + d[1] * k)];
                        }
                    }
                }
                out[x + d[0] * (y + d[1] * z)] = sum / 64.0;
            }
        }
    }
    return RADX_OK;
}

static const RadxFilterDesc filters[] = {
    {sizeof(RadxFilterDesc), "binomial_mean3", "3x3x3 weighted mean, weights 1-2-1 per axis, nearest boundary",
     {1, 1, 1}, 0.0, "nearest", NULL, 0, binomial_mean3},
};

static const RadxFilterTable filter_table = {
    RADX_PLUGIN_ABI, RADX_PLUGIN_ABI_MINOR, sizeof(RadxFilterTable), filters, sizeof filters / sizeof filters[0],
    sizeof(RadxFilterDesc),
};

RADX_EXPORT const RadxFilterTable *radx_plugin_filters(void) { return &filter_table; }
