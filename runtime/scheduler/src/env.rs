//! The environment Marathon gives a task: `PORT0…`, `PORT`, `PORTS`, `PORT_<NAME>`, `HOST`,
//! `MARATHON_APP_*`, `MESOS_TASK_ID`, then the app's own `env` (which wins).

use std::collections::BTreeMap;

use strato_runtime_types::App;

pub fn task_env(app: &App, task_id: &str, host: &str, ports: &[u16]) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (i, port) in ports.iter().enumerate() {
        env.insert(format!("PORT{i}"), port.to_string());
    }
    if let Some(first) = ports.first() {
        env.insert("PORT".into(), first.to_string());
    }
    env.insert(
        "PORTS".into(),
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    for (name, port) in app.port_names().iter().zip(ports) {
        if let Some(name) = name {
            env.insert(format!("PORT_{}", env_name(name)), port.to_string());
        }
    }
    env.insert("HOST".into(), host.into());
    env.insert("MARATHON_APP_ID".into(), app.id.clone());
    env.insert("MARATHON_APP_VERSION".into(), app.version.clone());
    env.insert("MARATHON_APP_RESOURCE_CPUS".into(), app.cpus.to_string());
    env.insert("MARATHON_APP_RESOURCE_MEM".into(), app.mem.to_string());
    env.insert("MARATHON_APP_RESOURCE_DISK".into(), app.disk.to_string());
    env.insert("MARATHON_APP_RESOURCE_GPUS".into(), app.gpus.to_string());
    if let Some(image) = app.docker_image() {
        env.insert("MARATHON_APP_DOCKER_IMAGE".into(), image);
    }
    env.insert(
        "MARATHON_APP_LABELS".into(),
        app.labels
            .keys()
            .map(|k| env_name(k))
            .collect::<Vec<_>>()
            .join(" "),
    );
    for (key, value) in &app.labels {
        env.insert(
            format!("MARATHON_APP_LABEL_{}", env_name(key)),
            value.clone(),
        );
    }
    env.insert("MESOS_TASK_ID".into(), task_id.into());
    for (key, value) in &app.env {
        // Secret references cannot be resolved here; they are left out rather than leaked as JSON.
        if let Some(text) = value.as_str() {
            env.insert(key.clone(), text.to_string());
        }
    }
    env
}

fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use strato_runtime_types::app::PortDefinition;

    #[test]
    fn ports_host_and_app_identity_are_set() {
        let mut app = App {
            id: "/shop/web".into(),
            version: "2015-09-25T15:13:48.343Z".into(),
            ..App::default()
        };
        app.port_definitions = vec![
            PortDefinition {
                name: Some("http".into()),
                ..PortDefinition::default()
            },
            PortDefinition {
                name: Some("admin-api".into()),
                ..PortDefinition::default()
            },
        ];
        app.labels.insert("team".into(), "blue".into());
        app.env.insert("PORT".into(), serde_json::json!("9999"));
        let env = task_env(&app, "shop_web.instance-1._app.1", "node1", &[31000, 31001]);
        assert_eq!(env["PORT0"], "31000");
        assert_eq!(env["PORT1"], "31001");
        assert_eq!(env["PORTS"], "31000,31001");
        assert_eq!(env["PORT_HTTP"], "31000");
        assert_eq!(env["PORT_ADMIN_API"], "31001");
        assert_eq!(env["PORT"], "9999", "the app's env wins");
        assert_eq!(env["HOST"], "node1");
        assert_eq!(env["MARATHON_APP_ID"], "/shop/web");
        assert_eq!(env["MARATHON_APP_LABELS"], "TEAM");
        assert_eq!(env["MARATHON_APP_LABEL_TEAM"], "blue");
        assert_eq!(env["MESOS_TASK_ID"], "shop_web.instance-1._app.1");
    }
}
