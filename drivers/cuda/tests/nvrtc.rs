//! Every CUDA kernel source compiles with NVRTC, on a machine without a GPU: a kernel syntax
//! error fails CI. Needs libnvrtc on the library path (`bash scripts/setup.sh --cuda`, then
//! `source ~/.cache/lantern-tools/env.sh`); skips with a note when it is missing.

use lantern::DType;
use lantern_cuda::compile::{compile, nvrtc_available, nvrtc_version, Target};
use lantern_kernels::cuda::{GROUPS, LAYOUT};
use std::collections::BTreeSet;

/// Hopper's virtual architecture; NVRTC's checks do not depend on it.
const ARCH: u32 = 90;

fn entries(ptx: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(ptx)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix(".visible .entry ")
                .or_else(|| l.strip_prefix(".entry "))?;
            Some(rest.split('(').next()?.trim().to_string())
        })
        .collect()
}

#[test]
fn every_kernel_source_compiles_to_ptx() {
    if !nvrtc_available() {
        eprintln!(
            "skipping the NVRTC kernel check: libnvrtc not found on the library path \
             (run `bash scripts/setup.sh --cuda` and source its env.sh)"
        );
        return;
    }
    eprintln!("NVRTC {:?}", nvrtc_version());
    let t = std::time::Instant::now();
    // Two groups at a time (the CI machine has two cores).
    let mut results = Vec::new();
    for pair in GROUPS.chunks(2) {
        let r: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = pair
                .iter()
                .map(|g| s.spawn(move || (g.name, compile(g, None, Target::Ptx(ARCH)))))
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("compile thread"))
                .collect()
        });
        results.extend(r);
    }
    let mut failures = Vec::new();
    let mut found: BTreeSet<(String, String)> = BTreeSet::new();
    for (g, r) in results {
        match r {
            Ok(ptx) => found.extend(entries(&ptx).into_iter().map(|e| (g.to_string(), e))),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let missing: Vec<_> = lantern_cuda::kernel_names()
        .into_iter()
        .filter(|(g, n)| !found.contains(&(g.to_string(), n.clone())))
        .map(|(g, n)| format!("{g}.cu: {n}"))
        .collect();
    assert!(
        missing.is_empty(),
        "kernels the driver launches but no source defines:\n{}",
        missing.join("\n")
    );
    eprintln!(
        "{} kernels in {} groups compiled in {:?}",
        found.len(),
        GROUPS.len(),
        t.elapsed()
    );
}

#[test]
fn one_dtype_builds_only_its_kernels() {
    if !nvrtc_available() {
        eprintln!("skipping: libnvrtc not found on the library path");
        return;
    }
    let ptx = compile(&LAYOUT, Some(DType::F16), Target::Ptx(ARCH)).expect("layout.cu for f16");
    let e = entries(&ptx);
    assert!(
        e.contains("cast_f16_f32") && e.contains("copy_f16"),
        "{e:?}"
    );
    assert!(!e.contains("copy_f32"), "LT_ONLY leaks other dtypes: {e:?}");
}
