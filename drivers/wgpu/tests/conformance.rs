//! The shared driver conformance suite on the wgpu driver (lavapipe in CI).
//!
//! Known failures are listed with their reason; the test fails on any other failure and
//! on a listed case that now passes, so the list cannot rot. Each entry is a bug to fix
//! (issue 4), not an accepted difference.

mod common;

/// Cases the wgpu driver still gets wrong, by exact case name, with the reason.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

#[test]
fn conformance_on_wgpu() {
    let Some(shared) = common::gpu() else { return };
    let dev = lantern::Device::new(common::own_driver(&shared));
    let report = lantern_tests::conformance::conformance(&dev);
    println!("{report}");
    let failed: Vec<&str> = report.failures().iter().map(|r| r.name.as_str()).collect();
    let unexpected: Vec<String> = report
        .failures()
        .iter()
        .filter(|r| !KNOWN_FAILURES.iter().any(|(k, _)| *k == r.name))
        .map(|r| format!("{}: {:?}", r.name, r.outcome))
        .collect();
    let fixed: Vec<&str> = KNOWN_FAILURES
        .iter()
        .filter(|(k, _)| !failed.contains(k))
        .map(|(k, _)| *k)
        .collect();
    for (k, why) in KNOWN_FAILURES {
        println!("known failure: {k} ({why})");
    }
    assert!(
        unexpected.is_empty(),
        "{} unexpected failures:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "these known failures now pass, remove them from KNOWN_FAILURES: {fixed:?}"
    );
}
