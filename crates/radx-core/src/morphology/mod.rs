//! Geometry of the ROI for morphological features (IBSI 3.1): surface mesh, convex
//! hull and diameters, PCA of voxel centres, enclosing shapes, Moran's I / Geary's C.
