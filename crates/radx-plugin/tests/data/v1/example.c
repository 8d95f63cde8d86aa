/*
 * plugins/c-example/example.c — a radx plugin in plain C, using only radx_plugin.h.
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
 */
#include <stdio.h>
#include <string.h>

#include "radx_plugin.h"

/* The message of the last failure. A real multi-threaded plugin should make this
 * thread-local (C11 _Thread_local), as radx may call features from several threads. */
static _Thread_local char last_error_message[256];

static const char *last_error(void) { return last_error_message; }

static int32_t roi_volume_mm3(const RadxInput *input, double *out) {
    if (input == NULL || out == NULL || input->morphological_mask.data == NULL) {
        snprintf(last_error_message, sizeof last_error_message, "roi_volume_mm3: no mask given");
        return RADX_ERROR;
    }
    const size_t *d = input->morphological_mask.dims;
    size_t n = d[0] * d[1] * d[2];
    size_t inside = 0;
    for (size_t i = 0; i < n; i++) {
        inside += input->morphological_mask.data[i] != 0;
    }
    const double *s = input->image.spacing;
    *out = (double)inside * s[0] * s[1] * s[2];
    return RADX_OK;
}

static int32_t always_fails(const RadxInput *input, double *out) {
    (void)input;
    (void)out;
    snprintf(last_error_message, sizeof last_error_message,
             "always_fails: this feature is not defined for any ROI (by design)");
    return RADX_ERROR;
}

static const RadxFeatureDesc features[] = {
    {"roi_volume_mm3", "YEKZ", "Approximate volume: voxel count times voxel volume (mm^3)", NULL, roi_volume_mm3},
    {"always_fails", "SITE-0001", "Always reports an error (demonstrates error returns)", NULL, always_fails},
};

static const RadxPluginDesc descriptor = {
    RADX_PLUGIN_ABI,
    "c-example",
    "0.1.0",
    features,
    sizeof features / sizeof features[0],
    NULL,
    0,
    last_error,
};

RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }
