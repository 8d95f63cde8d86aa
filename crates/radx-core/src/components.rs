//! Connected components and distance maps (GLSZM/GLDZM).
