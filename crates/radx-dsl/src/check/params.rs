//! A family's source parameters (`glcm(distance: 2)`) against its source's schema.

use super::*;

pub(super) fn check_params(
    family: &ast::Family,
    schema: &SourceSchema,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(String, ParamValue)> {
    let mut values: Vec<(String, ParamValue)> =
        schema.params.iter().map(|p| (p.name.clone(), p.default.clone())).collect();
    let mut seen: Vec<&str> = Vec::new();
    for arg in &family.args {
        let Some(spec) = schema.params.iter().find(|p| p.name == arg.name.name) else {
            let names: Vec<&str> = schema.params.iter().map(|p| p.name.as_str()).collect();
            let help = did_you_mean(&arg.name.name, names.iter().copied()).unwrap_or_else(|| {
                if names.is_empty() {
                    format!("`{}` takes no parameters", schema.name)
                } else {
                    format!("parameters of `{}`: {}", schema.name, names.join(", "))
                }
            });
            errors.push(
                Diagnostic::new(
                    ErrorKind::UnknownParam { source_name: schema.name.clone(), name: arg.name.name.clone() },
                    arg.name.span,
                    "unknown parameter",
                )
                .with_help(help),
            );
            continue;
        };
        if seen.contains(&arg.name.name.as_str()) {
            errors.push(Diagnostic::new(
                ErrorKind::DuplicateParam { name: arg.name.name.clone() },
                arg.span,
                "given again here",
            ));
            continue;
        }
        seen.push(&arg.name.name);
        let value = match (spec.kind, &arg.value) {
            (ParamKind::Int, Literal::Number(v)) if v.fract() == 0.0 && v.abs() < 9.0e15 => {
                Some(ParamValue::Int(*v as i64))
            }
            (ParamKind::Float, Literal::Number(v)) => Some(ParamValue::Float(*v)),
            (ParamKind::Bool, Literal::Bool(b)) => Some(ParamValue::Bool(*b)),
            (ParamKind::Str, Literal::Str(s)) => Some(ParamValue::Str(s.clone())),
            _ => None,
        };
        match value {
            Some(v) if !spec.allowed.admits(&v) => errors.push(
                Diagnostic::new(
                    ErrorKind::ParamValue {
                        source_name: schema.name.clone(),
                        name: spec.name.clone(),
                        value: v.to_string(),
                        allowed: spec.allowed.to_string(),
                    },
                    arg.span,
                    "not an accepted value",
                )
                .with_help(format!("`{}`: {}", spec.name, spec.doc)),
            ),
            Some(v) => {
                if let Some(slot) = values.iter_mut().find(|(n, _)| *n == spec.name) {
                    slot.1 = v;
                }
            }
            None => errors.push(
                Diagnostic::new(
                    ErrorKind::ParamType {
                        source_name: schema.name.clone(),
                        name: spec.name.clone(),
                        expected: spec.kind.describe().to_string(),
                    },
                    arg.span,
                    "wrong type",
                )
                .with_help(spec.doc.clone()),
            ),
        }
    }
    values
}
