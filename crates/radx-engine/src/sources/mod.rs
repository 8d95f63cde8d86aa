//! The sources feature families are evaluated on. A [`SourceProvider`] owns a set of
//! sources: it registers their schemas with the language's registry, estimates the memory
//! their matrices need (checked against the budget before they are built), and builds their
//! data from a processed case. The IBSI's sources are [`ibsi::IbsiSources`], PyRadiomics'
//! `pyr_*` sources live in its compatibility profile; plugin sources ([`plugin`]) are built by
//! the plugins themselves.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use radx_dsl::{ParamValue, Registry, SourceData};

use crate::library::LibraryFamily;
use crate::settings::Settings;

pub mod ibsi;
mod ibsi_schemas;
pub mod plugin;
pub mod plugin_params;
pub mod provider;

pub use provider::{Instance, Instances, Levels, RoiExtent, SourceContext, SourceProvider};

/// Every provider of built-in sources, in registration order.
pub fn providers() -> [&'static dyn SourceProvider; 2] {
    [&ibsi::IbsiSources, &crate::compat::pyradiomics::sources::PyradiomicsSources]
}

/// The language's registry for `settings`: the language's own builtins and every built-in
/// provider's schemas and builtins (see [`SourceProvider::register`]).
pub fn registry(settings: &Settings) -> Registry {
    let mut registry = Registry::with_language_builtins();
    for provider in providers() {
        provider.register(&mut registry, settings);
    }
    registry
}

/// The provider of `source`, if it is built in.
pub fn provider(source: &str) -> Option<&'static dyn SourceProvider> {
    providers().into_iter().find(|p| p.provides(source))
}

/// The cache key of a family's source: its name and parameters.
pub(crate) fn source_key(family: &LibraryFamily) -> String {
    format!("{}{:?}", family.family.source().name, family.family.params())
}

/// The distinct sources a library uses, each `(source, parameters)` once with the first
/// family over it: worked out once per library, so a feature map's windows build their
/// sources without keying them by strings again.
pub(crate) struct SourcePlan<'l> {
    /// Each distinct source's [`source_key`] and the first family over it, in library order.
    distinct: Vec<(String, &'l LibraryFamily)>,
    /// The GLSZM's and the GLDZM's positions in `distinct` when one job finds the zones
    /// for both (both wanted, with the same parameters).
    zone_pair: Option<(usize, usize)>,
}

impl<'l> SourcePlan<'l> {
    /// The sources of `library`'s families, less those for which `skip` holds.
    pub(crate) fn of(library: &'l [LibraryFamily], skip: impl Fn(&str) -> bool) -> Self {
        let mut distinct: Vec<(String, &LibraryFamily)> = Vec::new();
        for family in library {
            if skip(&family.family.source().name) {
                continue;
            }
            let key = source_key(family);
            if !distinct.iter().any(|(k, _)| *k == key) {
                distinct.push((key, family));
            }
        }
        // The GLSZM and the GLDZM count the same zones: when both are wanted with the same
        // parameters, one job finds the zones once and builds both.
        let zone_source = |name: &str| distinct.iter().position(|(_, f)| f.family.source().name == name);
        let zone_pair = match (zone_source("szm"), zone_source("dzm")) {
            (Some(s), Some(d))
                if distinct[s].1.family.params() == distinct[d].1.family.params()
                    && ibsi::unsupported_connectivity(distinct[s].1.family.params()).is_none() =>
            {
                Some((s, d))
            }
            _ => None,
        };
        SourcePlan { distinct, zone_pair }
    }

    /// The distinct sources: each one's key and the first family over it.
    pub(crate) fn sources(&self) -> &[(String, &'l LibraryFamily)] {
        &self.distinct
    }

    /// The position of `family`'s source among [`Self::sources`], if it is planned.
    pub(crate) fn position(&self, family: &LibraryFamily) -> Option<usize> {
        let key = source_key(family);
        self.distinct.iter().position(|(k, _)| *k == key)
    }
}

impl SourceContext<'_, '_> {
    /// Every distinct source the library uses that a provider of `settings` builds, built
    /// concurrently (each source's aggregations too) when [`SourceContext::parallel`], keyed
    /// by [`source_key`]. Builders are deterministic, so the result does not depend on the
    /// thread count. Sources for which `skip` holds (those a plugin provides) are left out.
    pub(crate) fn build_all(
        &self,
        library: &[LibraryFamily],
        skip: impl Fn(&str) -> bool,
    ) -> HashMap<String, Arc<Instances>> {
        let plan = SourcePlan::of(library, skip);
        let built = self.build_planned(&plan);
        plan.distinct.into_iter().map(|(key, _)| key).zip(built).collect()
    }

    /// The data of every source of `plan`, in its order (concurrently when
    /// [`SourceContext::parallel`]).
    pub(crate) fn build_planned(&self, plan: &SourcePlan<'_>) -> Vec<Arc<Instances>> {
        let build = |k: usize| match plan.zone_pair {
            Some((_, dzm)) if k == dzm => Vec::new(),
            Some((szm, dzm)) if k == szm => {
                let (sizes, distances) = ibsi::IbsiSources.build_zones(self);
                vec![(szm, Arc::new(sizes)), (dzm, Arc::new(distances))]
            }
            _ => {
                let family = &plan.distinct[k].1.family;
                vec![(k, Arc::new(self.build(&family.source().name, family.params())))]
            }
        };
        let n = plan.distinct.len();
        let built: Vec<(usize, Arc<Instances>)> = if self.parallel {
            (0..n).into_par_iter().flat_map_iter(build).collect()
        } else {
            (0..n).flat_map(build).collect()
        };
        let mut slots: Vec<Option<Arc<Instances>>> = vec![None; n];
        for (k, instances) in built {
            slots[k] = Some(instances);
        }
        slots.into_iter().map(|s| s.expect("every planned source is built")).collect()
    }

    /// The data of one source: its provider's, or an empty instance for a source no
    /// provider builds (a plugin's, built elsewhere).
    fn build(&self, source: &str, params: &[(String, ParamValue)]) -> Instances {
        match provider(source) {
            Some(p) => p.build(self, source, params),
            None => vec![(None, Ok(vec![SourceData::new()]))],
        }
    }
}
