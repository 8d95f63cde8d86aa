"""Compare the features radx and PyRadiomics define identically (same IBSI definition,
same binning once radx is given PyRadiomics' lower bound)."""
import csv
import sys

radx = {}
with open(sys.argv[1]) as f:
    for row in csv.DictReader(f):
        radx[(row["family"], row["feature"], row["aggregation"])] = float(row["value"])
py = {}
with open(sys.argv[2]) as f:
    for name, value in csv.reader(f):
        py[name] = float(value)

S, A, M = "-", "3d_avg", "3d_mrg"
# (PyRadiomics name, radx key, note on why they may differ)
PAIRS = [
    ("original_shape_MeshVolume", ("morphology", "volume", S), "mesh: radx triangulates the IBSI marching-cubes surface, PyRadiomics its own marching-cubes variant"),
    ("original_shape_VoxelVolume", ("morphology", "approximate_volume", S), ""),
    ("original_shape_SurfaceArea", ("morphology", "surface_area", S), "mesh: radx triangulates the IBSI marching-cubes surface, PyRadiomics its own marching-cubes variant"),
    ("original_shape_Sphericity", ("morphology", "sphericity", S), "from mesh volume and area (see above)"),
    ("original_shape_Maximum3DDiameter", ("morphology", "maximum_3d_diameter", S), ""),
    ("original_shape_MajorAxisLength", ("morphology", "major_axis_length", S),
     "covariance over N - 1 voxels (radx) or N (PyRadiomics): a factor sqrt(N / (N - 1))"),
    ("original_shape_Elongation", ("morphology", "elongation", S), ""),
    ("original_shape_Flatness", ("morphology", "flatness", S), ""),
    ("original_firstorder_Mean", ("intensity_statistics", "mean_intensity", S), ""),
    ("original_firstorder_Variance", ("intensity_statistics", "intensity_variance", S), ""),
    ("original_firstorder_Skewness", ("intensity_statistics", "intensity_skewness", S), ""),
    ("original_firstorder_Median", ("intensity_statistics", "median_intensity", S), ""),
    ("original_firstorder_Minimum", ("intensity_statistics", "minimum_intensity", S), ""),
    ("original_firstorder_Maximum", ("intensity_statistics", "maximum_intensity", S), ""),
    ("original_firstorder_Energy", ("intensity_statistics", "energy", S), ""),
    ("original_firstorder_RootMeanSquared", ("intensity_statistics", "root_mean_square", S), ""),
    ("original_firstorder_MeanAbsoluteDeviation", ("intensity_statistics", "mean_absolute_deviation", S), ""),
    ("original_firstorder_Kurtosis", ("intensity_statistics", "intensity_kurtosis", S),
     "PyRadiomics reports kurtosis, IBSI excess kurtosis (kurtosis - 3)"),
    ("original_firstorder_10Percentile", ("intensity_statistics", "intensity_percentile_10", S),
     "percentile interpolation conventions differ"),
    ("original_firstorder_Entropy", ("intensity_histogram", "discretised_intensity_entropy", S), ""),
    ("original_firstorder_Uniformity", ("intensity_histogram", "discretised_intensity_uniformity", S), ""),
    ("original_glcm_Contrast", ("glcm", "contrast", A), ""),
    ("original_glcm_JointEntropy", ("glcm", "joint_entropy", A), ""),
    ("original_glcm_JointEnergy", ("glcm", "angular_second_moment", A), ""),
    ("original_glcm_Correlation", ("glcm", "correlation", A), ""),
    ("original_glcm_Idm", ("glcm", "inverse_difference_moment", A), ""),
    ("original_glcm_ClusterShade", ("glcm", "cluster_shade", A), ""),
    ("original_glrlm_ShortRunEmphasis", ("glrlm", "short_runs_emphasis", A), ""),
    ("original_glrlm_LongRunEmphasis", ("glrlm", "long_runs_emphasis", A), ""),
    ("original_glrlm_RunPercentage", ("glrlm", "run_percentage", A), ""),
    ("original_glrlm_GrayLevelNonUniformity", ("glrlm", "grey_level_non_uniformity", A), ""),
    ("original_glszm_SmallAreaEmphasis", ("glszm", "small_zone_emphasis", M), ""),
    ("original_glszm_ZonePercentage", ("glszm", "zone_percentage", M), ""),
    ("original_glszm_SizeZoneNonUniformity", ("glszm", "zone_size_non_uniformity", M), ""),
    ("original_gldm_DependenceNonUniformity", ("ngldm", "dependence_count_non_uniformity", M), ""),
    ("original_gldm_LowGrayLevelEmphasis", ("ngldm", "low_grey_level_count_emphasis", M), ""),
    ("original_ngtdm_Coarseness", ("ngtdm", "coarseness", M), ""),
    ("original_ngtdm_Contrast", ("ngtdm", "contrast", M), ""),
    ("original_ngtdm_Busyness", ("ngtdm", "busyness", M), ""),
]

print(f"{'PyRadiomics feature':44} {'radx':>16} {'PyRadiomics':>16} {'rel. diff':>10}  note")
for pname, key, note in PAIRS:
    if pname not in py or key not in radx:
        print(f"{pname:44} missing in {'PyRadiomics' if pname not in py else 'radx'}")
        continue
    r, p = radx[key], py[pname]
    rel = abs(r - p) / max(abs(p), 1e-300)
    print(f"{pname:44} {r:16.8g} {p:16.8g} {rel:10.2e}  {note}")
