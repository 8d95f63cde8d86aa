/*
 * plugins/c-example/example.c — a radx plugin in plain C, using only radx_plugin.h (ABI 2).
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
 *
 * Lifecycle: init allocates a context (here: the unit volumes are reported in, mm³ = 1)
 * that every call receives, and says hello through the host's log; shutdown frees it.
 */
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

static const RadxFeatureDesc features[] = {
    {sizeof(RadxFeatureDesc), "roi_volume_mm3", "YEKZ", "Approximate volume: voxel count times voxel volume (mm^3)",
     NULL, roi_volume_mm3, 0.0},
    {sizeof(RadxFeatureDesc), "always_fails", "SITE-0001", "Always reports an error (demonstrates error returns)",
     NULL, always_fails, 0.0},
    {sizeof(RadxFeatureDesc), "box_offset_z", "SITE-0002", "Index of the ROI box's first slice in the image", NULL,
     box_offset_z, 0.0},
    {sizeof(RadxFeatureDesc), "box_origin_z_mm", "SITE-0003", "World z (mm) of the ROI box's first voxel", NULL,
     box_origin_z_mm, 0.0},
    {sizeof(RadxFeatureDesc), "outside_2mm", "SITE-0004", "Voxels outside the ROI in its box grown by 2 mm", NULL,
     outside_2mm, 2.0},
};

static const RadxPluginDesc descriptor = {
    RADX_PLUGIN_ABI,
    RADX_PLUGIN_ABI_MINOR,
    sizeof(RadxPluginDesc),
    "c-example",
    "0.2.0",
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
