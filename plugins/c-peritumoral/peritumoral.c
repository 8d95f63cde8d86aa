/*
 * plugins/c-peritumoral/peritumoral.c — the peritumoral ring of plugins/peritumoral, in C
 * (ABI 2.1's margin region), using only radx_plugin.h.
 *
 * Build:  cc -shared -fPIC -O2 -I crates/radx-plugin/include plugins/c-peritumoral/peritumoral.c \
 *            -o libradx_c_peritumoral.so -lm
 *
 * The ring: the voxels outside the ROI whose centres lie within 5 mm of an ROI voxel's
 * centre (0 < distance <= 5 mm, Euclidean, in mm on the processed grid), clipped where the
 * image ends. Features (not IBSI: site tags):
 *   ring_mean_5mm    mean of the ring's intensities
 *   ring_std_5mm     their population standard deviation (divided by n)
 *   ring_voxels_5mm  how many voxels the ring holds
 * Each declares margin_mm = 5, so radx passes the image and masks around the ROI's box
 * grown by 5 mm (input->margin). If radx kept less where the image goes on (PyRadiomics'
 * preCrop), the feature is an error rather than a smaller ring.
 *
 * The search is direct: for each voxel outside the ROI, any ROI voxel within the 5 mm
 * box around it. Slower than the Rust example's boundary stamping, and independent of it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "radx_plugin.h"

#define RING_MM 5.0

static _Thread_local char last_error_message[320];

static const char *last_error(void) { return last_error_message[0] ? last_error_message : NULL; }

/* Whole voxels of spacing s within RING_MM. */
static size_t reach(double s) { return (size_t)ceil(RING_MM / s); }

/* Whether the region holds everything within RING_MM of the ROI's box that the image has. */
static int covers(const RadxInput *input) {
    const RadxRegionView *r = &input->margin;
    const RadxGeometry *g = &input->geometry;
    for (int a = 0; a < 3; a++) {
        size_t need = reach(r->image.spacing[a]);
        size_t lo = g->box_offset[a] > need ? g->box_offset[a] - need : 0;
        size_t hi = g->box_offset[a] + input->image.dims[a] + need;
        hi = hi < g->image_dims[a] ? hi : g->image_dims[a];
        if (r->offset[a] > lo || r->offset[a] + r->image.dims[a] < hi) {
            return 0;
        }
    }
    return 1;
}

/* Whether region voxel (x, y, z), outside the ROI, has an ROI voxel within RING_MM. */
static int in_ring(const RadxRegionView *r, size_t x, size_t y, size_t z) {
    const size_t *d = r->image.dims;
    const double *s = r->image.spacing;
    const uint8_t *m = r->morphological_mask.data;
    size_t rx = reach(s[0]), ry = reach(s[1]), rz = reach(s[2]);
    size_t z0 = z > rz ? z - rz : 0, y0 = y > ry ? y - ry : 0, x0 = x > rx ? x - rx : 0;
    for (size_t k = z0; k < d[2] && k <= z + rz; k++) {
        double ez = ((double)k - (double)z) * s[2];
        for (size_t j = y0; j < d[1] && j <= y + ry; j++) {
            double ey = ((double)j - (double)y) * s[1];
            for (size_t i = x0; i < d[0] && i <= x + rx; i++) {
                double ex = ((double)i - (double)x) * s[0];
                if (m[i + d[0] * (j + d[1] * k)] && ex * ex + ey * ey + ez * ez <= RING_MM * RING_MM) {
                    return 1;
                }
            }
        }
    }
    return 0;
}

/* Count, sum and sum of squared deviations of the ring's intensities; RADX_ERROR with a
 * message when there is no region, it is cut short, or the ring is empty. */
static int32_t ring(const RadxInput *input, double *n_out, double *mean_out, double *var_out) {
    last_error_message[0] = '\0';
    if (input->struct_size < offsetof(RadxInput, margin) + sizeof input->margin || input->margin.image.data == NULL) {
        snprintf(last_error_message, sizeof last_error_message, "radx passed no margin region (radx 2.1 or later does)");
        return RADX_ERROR;
    }
    if (!covers(input)) {
        snprintf(last_error_message, sizeof last_error_message,
                 "radx kept less than %.0f mm around the ROI where the image goes on (PyRadiomics' preCrop keeps only "
                 "padDistance voxels: turn it off to use this plugin)",
                 RING_MM);
        return RADX_ERROR;
    }
    const RadxRegionView *r = &input->margin;
    const size_t *d = r->image.dims;
    double n = 0.0, sum = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        double mean = n > 0.0 ? sum / n : 0.0, squares = 0.0;
        for (size_t z = 0; z < d[2]; z++) {
            for (size_t y = 0; y < d[1]; y++) {
                for (size_t x = 0; x < d[0]; x++) {
                    size_t at = x + d[0] * (y + d[1] * z);
                    if (r->morphological_mask.data[at] || !in_ring(r, x, y, z)) {
                        continue;
                    }
                    double v = r->image.data[at];
                    if (pass == 0) {
                        n += 1.0;
                        sum += v;
                    } else {
                        squares += (v - mean) * (v - mean);
                    }
                }
            }
        }
        if (pass == 0 && n == 0.0) {
            snprintf(last_error_message, sizeof last_error_message, "no voxel of the image lies within %.0f mm outside the ROI", RING_MM);
            return RADX_ERROR;
        }
        if (pass == 1) {
            *n_out = n;
            *mean_out = mean;
            *var_out = squares / n;
        }
    }
    return RADX_OK;
}

static int32_t ring_mean(void *context, const RadxInput *input, double *out) {
    (void)context;
    double n, mean, var;
    int32_t rc = ring(input, &n, &mean, &var);
    *out = mean;
    return rc;
}

static int32_t ring_std(void *context, const RadxInput *input, double *out) {
    (void)context;
    double n, mean, var;
    int32_t rc = ring(input, &n, &mean, &var);
    *out = sqrt(var);
    return rc;
}

static int32_t ring_voxels(void *context, const RadxInput *input, double *out) {
    (void)context;
    double n, mean, var;
    int32_t rc = ring(input, &n, &mean, &var);
    *out = n;
    return rc;
}

static const RadxFeatureDesc features[] = {
    {.struct_size = sizeof(RadxFeatureDesc), .name = "ring_mean_5mm", .tag = "RADX-PTC1",
     .description = "Mean intensity within 5 mm outside the ROI", .compute = ring_mean, .margin_mm = RING_MM},
    {.struct_size = sizeof(RadxFeatureDesc), .name = "ring_std_5mm", .tag = "RADX-PTC2",
     .description = "Population standard deviation of the intensities within 5 mm outside the ROI",
     .compute = ring_std, .margin_mm = RING_MM},
    {.struct_size = sizeof(RadxFeatureDesc), .name = "ring_voxels_5mm", .tag = "RADX-PTC3",
     .description = "Voxels within 5 mm outside the ROI", .compute = ring_voxels, .margin_mm = RING_MM},
};

static const RadxPluginDesc descriptor = {
    .abi_version = RADX_PLUGIN_ABI,
    .abi_minor = RADX_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(RadxPluginDesc),
    .name = "c-peritumoral",
    .version = "0.1.0",
    .features = features,
    .n_features = sizeof features / sizeof features[0],
    .feature_size = sizeof(RadxFeatureDesc),
    .source_size = sizeof(RadxSourceDesc),
    .last_error = last_error,
};

RADX_EXPORT const RadxPluginDesc *radx_plugin_entry(void) { return &descriptor; }
