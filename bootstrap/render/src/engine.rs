//! The template engine: every file under `templates/` embedded at build time, so the binary renders
//! the same tree wherever it runs, plus the escaping filters the templates use.
use std::collections::HashMap;

use tera::{Context, Tera, Value};

use crate::error::RenderError;

/// Embeds `templates/<name>` under its name relative to `templates/`.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../templates/", $name)))),*]
    };
}

/// Every template, by its path under `templates/`.
pub const TEMPLATES: &[(&str, &str)] = templates![
    "scripts/common.sh.tera",
    "scripts/fetch.sh.tera",
    "scripts/install.sh.tera",
    "scripts/upgrade.sh.tera",
    "scripts/uninstall.sh.tera",
    "scripts/ip-detect-route.sh.tera",
    "scripts/ip-detect-interface.sh.tera",
    "systemd/strato-master.service.tera",
    "systemd/strato-agent.service.tera",
    "systemd/strato-bootstrap.service.tera",
    "systemd/strato-etcd.service.tera",
    "config/master.toml.tera",
    "config/agent.toml.tera",
    "cloud-init/node.yaml.tera",
];

/// A Tera instance holding every template and the filters `sh_quote`, `toml_str`, `yaml_str`.
pub fn engine() -> Result<Tera, RenderError> {
    let mut tera = Tera::default();
    // Nothing here is HTML: escaping would corrupt scripts.
    tera.autoescape_on(vec![]);
    tera.add_raw_templates(TEMPLATES.iter().copied())
        .map_err(|source| RenderError::Template {
            template: "templates/".into(),
            source,
        })?;
    tera.register_filter("sh_quote", sh_quote_filter);
    tera.register_filter("toml_str", quoted_filter);
    tera.register_filter("yaml_str", quoted_filter);
    Ok(tera)
}

/// Render one template with `context`.
pub fn render(tera: &Tera, template: &str, context: &Context) -> Result<String, RenderError> {
    tera.render(template, context)
        .map_err(|source| RenderError::Template {
            template: template.to_owned(),
            source,
        })
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn sh_quote_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(strato_text::shell_quote(&as_text(value))))
}

/// A double-quoted string with JSON escapes: valid as a TOML basic string and a YAML scalar.
fn quoted_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let quoted = serde_json::to_string(&as_text(value)).map_err(tera::Error::json)?;
    Ok(Value::String(quoted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let tera = engine().expect("templates parse");
        for (name, _) in TEMPLATES {
            assert!(
                tera.get_template_names().any(|n| n == *name),
                "{name} missing"
            );
        }
    }
}
