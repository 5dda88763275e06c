//! Property tests of the loaders: any valid model written out loads back equal, and
//! no input, however broken, makes a loader panic.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use homelab::environment::EnvironmentsFile;
use homelab::inventory::{
    self, Cluster, DnsSettings, Host, Inventory, InventorySource, Role, Taint, TaintEffect,
};
use homelab::release::{ChartSource, EntryPoint, Overlay, Release, SecretRef};
use homelab::toml_file::TomlFile;
use indexmap::IndexMap;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]"
}

fn text() -> impl Strategy<Value = String> {
    // Any string TOML and JSON can carry, quotes and newlines included.
    "\\PC{0,12}"
}

fn chart() -> impl Strategy<Value = Option<ChartSource>> {
    prop_oneof![
        Just(None),
        (text(), name(), (0u64..50, 0u64..50, 0u64..50)).prop_map(
            |(repository, name, (a, b, c))| Some(ChartSource::Repository {
                repository,
                name,
                version: format!("{a}.{b}.{c}")
            })
        ),
        text().prop_map(|path| Some(ChartSource::Local { path })),
    ]
}

prop_compose! {
    fn release()(
        name in name(), namespace in name(),
        needs in prop::collection::vec(name(), 0..3),
        environments in prop::collection::vec(name(), 0..3),
        values in prop::collection::vec(text(), 0..3),
        manifests in prop::collection::vec(text(), 0..3),
        chart in chart(),
        overlays in prop::collection::vec((name(), prop::collection::vec(text(), 0..2)), 0..3),
        entrypoints in prop::collection::vec((name(), 30000u16..32768, prop::option::of(1u16..1024)), 0..3),
        secrets in prop::collection::vec((name(), prop::collection::vec((name(), text()), 1..3)), 0..3),
    ) -> Release {
        Release {
            name, namespace, needs, environments, values, manifests, chart,
            overlays: overlays.into_iter().map(|(k, values)| (k, Overlay { values })).collect(),
            entrypoints: entrypoints.into_iter().map(|(k, node_port, listen)| (k, EntryPoint { node_port, listen })).collect(),
            secrets: secrets.into_iter().map(|(name, data)| SecretRef { name, data: data.into_iter().collect::<IndexMap<_, _>>() }).collect(),
        }
    }
}

fn ip() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)))
}

prop_compose! {
    fn host()(
        system in prop::sample::select(vec!["x86_64-linux", "aarch64-linux"]),
        roles in prop::collection::vec(prop::sample::select(Role::ALL.to_vec()), 0..4),
        lan_address in ip(), tailscale_address in prop::option::of(ip()),
        labels in prop::collection::btree_map(name(), text(), 0..3),
        taints in prop::collection::vec((name(), text()), 0..2),
        ssh in text(),
    ) -> Host {
        Host {
            system: system.into(), roles, lan_address, tailscale_address, tailscale_address6: None, labels,
            taints: taints.into_iter().map(|(key, value)| Taint { key, value, effect: TaintEffect::NoSchedule }).collect(),
            disks: vec![], ssh, confirm_timeout: None, mac: None, interface: None,
        }
    }
}

prop_compose! {
    fn inventory()(domain in text(), hosts in prop::collection::btree_map(name(), host(), 0..4), port in any::<u16>()) -> Inventory {
        Inventory {
            domain, home_subdomain: "home".into(),
            cluster: Cluster {
                name: "lab".into(), kubernetes_version: "1.34.1".into(),
                lan_cidr: "192.168.10.0/24".parse().unwrap(), tailscale_cidr: "100.64.0.0/10".parse().unwrap(),
                pod_cidr: "10.42.0.0/16".parse().unwrap(), service_cidr: "10.43.0.0/16".parse().unwrap(),
                api_port: port, dns_domain: "cluster.local".into(), upstream_dns: vec![IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1))],
            },
            dns: DnsSettings::default(), admins: BTreeMap::new(), hosts,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn releases_load_back_equal(release in release()) {
        let text = toml::to_string(&release).expect("a release serialises");
        let loaded = TomlFile::<Release>::parse(Path::new("release.toml"), text.clone(), "release")
            .unwrap_or_else(|d| panic!("{d}\n{text}"));
        prop_assert_eq!(loaded.value, release, "{}", text);
    }

    #[test]
    fn inventories_load_back_equal(inv in inventory()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inventory.json");
        std::fs::write(&path, serde_json::to_string(&inv).unwrap()).unwrap();
        let loaded = inventory::load(&InventorySource::Json(path), Path::new("inventory.json"))
            .unwrap_or_else(|d| panic!("{d}"));
        prop_assert_eq!(loaded.inventory, inv);
    }

    #[test]
    fn arbitrary_text_never_panics_the_toml_loaders(text in "\\PC{0,200}|[\\[\\]=\"a-z.{}, \n]{0,200}") {
        let _ = TomlFile::<Release>::parse(Path::new("release.toml"), text.clone(), "release");
        let _ = TomlFile::<EnvironmentsFile>::parse(Path::new("environments.toml"), text, "environments file");
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_inventory_loader(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inventory.json");
        std::fs::write(&path, &bytes).unwrap();
        let _ = inventory::load(&InventorySource::Json(path), Path::new("inventory.json"));
    }
}
