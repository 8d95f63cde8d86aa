//! Iteration helpers: neighbour offsets, slices, connected components, distance maps.
