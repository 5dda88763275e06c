#![no_main]
//! A Helmfile is untrusted input to `homelab import helmfile`: whatever helmfile.yaml
//! holds (templates included), reading it answers with a plan and a report, never a
//! panic, and the plan only ever names files under `releases/`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One folder per process: libFuzzer runs inputs one after another.
    let dir = std::env::temp_dir().join(format!("homelab-fuzz-helmfile-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("values")).unwrap();
    std::fs::write(dir.join("values/a.yaml"), "a: 1\n").unwrap();
    std::fs::write(dir.join("helmfile.yaml"), data).unwrap();
    if let Ok(plan) = homelab::import::plan(&dir.join("helmfile.yaml")) {
        for file in &plan.files {
            let inside = file.path.starts_with("releases/")
                && file.path.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
            assert!(inside, "{}", file.path);
        }
        let _ = plan.report.to_string();
    }
});
