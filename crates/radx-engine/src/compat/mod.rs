//! Compatibility profiles: other tools' definitions and processing rules, kept beside the
//! IBSI's and named as such (when a tool and the IBSI disagree, the IBSI is the default).

pub mod pyradiomics;
