//! The recursive and wavelet filters' inner loops compiled for the widest vector instructions
//! the CPU has. The portable build targets SSE2, whose two f64 lanes cap the throughput of
//! loops that run across a bundle of lines (AVX-512 has eight). Only the instruction set
//! differs: every operation and its order are the same, and Rust never fuses a multiply and
//! an add on its own, so the bits are the same on any CPU (tested in each filter against
//! the portable loops).

/// Which instructions [`compiled_for!`]'s functions run: made only by [`Isa::widest`] (what
/// the CPU has) or [`Isa::portable`], so running them is sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Isa(Level);

/// The instruction sets [`Isa`] tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Avx512,
    Avx2,
    Portable,
}

impl Isa {
    /// The widest instructions this CPU has.
    pub(crate) fn widest() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa(Level::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa(Level::Avx2);
            }
        }
        Isa(Level::Portable)
    }

    /// The portable build's instructions (the reference the wide loops are tested against).
    #[cfg(test)]
    pub(crate) fn portable() -> Isa {
        Isa(Level::Portable)
    }

    /// The instruction set.
    pub(crate) fn level(self) -> Level {
        self.0
    }
}

/// `compiled_for!(fn name(a: A, …) => body)` defines `name(isa: Isa, a: A, …)`, which runs
/// `body(a, …)` compiled for `isa`'s instructions. `body` must be `#[inline(always)]`, as
/// must every function of this crate it calls, so that each copy is compiled whole for its
/// instruction set.
macro_rules! compiled_for {
    ($vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $body:path) => {
        #[allow(unsafe_code)]
        $vis fn $name(isa: $crate::pyradiomics::wide::Isa, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                use $crate::pyradiomics::wide::Level;
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                match isa.level() {
                    // SAFETY: an `Isa` at this level is only made when the CPU has AVX-512F.
                    Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: an `Isa` at this level is only made when the CPU has AVX2.
                    Level::Avx2 => return unsafe { avx2($($arg),*) },
                    Level::Portable => {}
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            let _ = isa;
            $body($($arg),*)
        }
    };
}
pub(crate) use compiled_for;
