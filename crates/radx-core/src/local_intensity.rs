//! Local and global intensity peaks (IBSI 3.2).
