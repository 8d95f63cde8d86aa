//! Non-texture sources: ROI intensity vector, intensity histogram, intensity-volume
//! histogram and local intensity peaks.
