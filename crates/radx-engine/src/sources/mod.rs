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

impl SourceContext<'_, '_> {
    /// Every distinct source the library uses that a provider of `settings` builds, built
    /// concurrently (each source's aggregations too) when `parallel`, keyed by [`source_key`].
    /// Builders are deterministic, so the result does not depend on the thread count. Sources
    /// for which `skip` holds (those a plugin provides) are left out.
    pub(crate) fn build_all(
        &self,
        library: &[LibraryFamily],
        skip: impl Fn(&str) -> bool,
        parallel: bool,
    ) -> HashMap<String, Arc<Instances>> {
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
        let zone_source = |name: &str| distinct.iter().find(|(_, f)| f.family.source().name == name);
        let zone_pair = match (zone_source("szm"), zone_source("dzm")) {
            (Some((szm, s)), Some((dzm, d)))
                if s.family.params() == d.family.params()
                    && ibsi::unsupported_connectivity(s.family.params()).is_none() =>
            {
                Some((szm.clone(), dzm.clone()))
            }
            _ => None,
        };
        let build = |(key, family): (String, &LibraryFamily)| match &zone_pair {
            Some((szm, dzm)) if key == *dzm => Vec::new(),
            Some((szm, dzm)) if key == *szm => {
                let (sizes, distances) = ibsi::IbsiSources.build_zones(self);
                vec![(szm.clone(), Arc::new(sizes)), (dzm.clone(), Arc::new(distances))]
            }
            _ => vec![(key, Arc::new(self.build(&family.family.source().name, family.family.params())))],
        };
        if parallel {
            distinct.into_par_iter().flat_map_iter(build).collect()
        } else {
            distinct.into_iter().flat_map(build).collect()
        }
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
