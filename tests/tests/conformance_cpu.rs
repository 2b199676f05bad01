//! The driver conformance suite on the CPU driver: the shared `Device::cpu()` and a fresh
//! `CpuDriver` instance, each against the suite's own reference CPU instance.

use lantern::cpu::CpuDriver;
use lantern::Device;
use lantern_tests::conformance::assert_conformance;
use std::sync::Arc;

#[test]
fn shared_cpu_device() {
    let r = assert_conformance(&Device::cpu());
    // The CPU is the reference: it supports every case it defines.
    assert!(r.unsupported().is_empty(), "{r}");
    assert!(r.passed() > 3000, "{r}");
}

// What a driver crate writes; here on a second, fresh CPU driver instance.
lantern_tests::conformance_tests!(fresh_cpu_driver_instance, || Some(Device::new(Arc::new(
    CpuDriver::new()
))));

/// The CPU driver with planted bugs, to prove the suite reports them: f64 unsupported
/// (allowed), f32 `sign` unsupported (not allowed: f32 is mandatory), `round` computed as
/// `trunc`, and `copy` ignoring its output view's offset.
struct Mutant(CpuDriver);

impl lantern::Driver for Mutant {
    fn name(&self) -> &'static str {
        "mutant"
    }
    fn id(&self) -> lantern::DeviceId {
        lantern::DeviceId {
            kind: "mutant",
            ordinal: 0,
        }
    }
    fn alloc(&self, bytes: usize) -> lantern::Result<lantern::BufId> {
        self.0.alloc(bytes)
    }
    fn free(&self, buf: lantern::BufId) {
        self.0.free(buf)
    }
    fn write(&self, dst: lantern::BufId, offset: usize, src: &[u8]) -> lantern::Result<()> {
        self.0.write(dst, offset, src)
    }
    fn read(&self, src: &lantern::View) -> lantern::driver::ReadFuture {
        self.0.read(src)
    }
    fn read_blocking(&self, src: &lantern::View) -> lantern::Result<Vec<u8>> {
        self.0.read_blocking(src)
    }
    fn exec(
        &self,
        op: &lantern::ops::PrimOp,
        ins: &[lantern::View],
        outs: &[lantern::View],
    ) -> lantern::Result<()> {
        use lantern::ops::{PrimOp, UnaryOp};
        use lantern::{DType, Error};
        let unsupported = |dt: DType| Error::Unsupported {
            op: op.name(),
            dtype: dt.name().to_string(),
            device: "mutant".to_string(),
        };
        if ins.iter().chain(outs).any(|v| v.dtype == DType::F64) {
            return Err(unsupported(DType::F64));
        }
        match op {
            PrimOp::Unary(UnaryOp::Sign) if outs[0].dtype == DType::F32 => {
                Err(unsupported(DType::F32))
            }
            PrimOp::Unary(UnaryOp::Round) => self.0.exec(&PrimOp::Unary(UnaryOp::Trunc), ins, outs),
            PrimOp::Copy => {
                let mut o = outs[0].clone();
                o.layout.offset = 0;
                self.0.exec(op, ins, &[o])
            }
            _ => self.0.exec(op, ins, outs),
        }
    }
    fn memory(&self) -> lantern::MemoryStats {
        self.0.memory()
    }
    fn set_memory_limit(&self, bytes: Option<usize>) {
        self.0.set_memory_limit(bytes)
    }
    fn synchronize(&self) -> lantern::Result<()> {
        self.0.synchronize()
    }
}

#[test]
fn the_suite_reports_planted_bugs() {
    use lantern_tests::conformance::{conformance_filtered, Outcome};
    let dev = Device::new(Arc::new(Mutant(CpuDriver::new())));
    let outcome = |r: &lantern_tests::conformance::Report, name: &str| {
        r.results
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case {name} in\n{r}"))
            .outcome
            .clone()
    };

    let r = conformance_filtered(&dev, "unary/round/");
    assert!(
        matches!(
            outcome(&r, "unary/round/float32/edge-values"),
            Outcome::Fail(_)
        ),
        "{r}"
    );
    assert!(
        matches!(outcome(&r, "unary/round/float32/contig"), Outcome::Fail(_)),
        "{r}"
    );
    assert!(
        matches!(
            outcome(&r, "unary/round/float64/contig"),
            Outcome::Unsupported(_)
        ),
        "{r}"
    );
    assert_eq!(
        outcome(&r, "unary/round/int32/contig"),
        Outcome::Pass,
        "{r}"
    );
    assert!(
        r.failures().iter().all(|c| !c.name.contains("float64")),
        "{r}"
    );

    let r = conformance_filtered(&dev, "unary/sign/float32/contig");
    match outcome(&r, "unary/sign/float32/contig") {
        Outcome::Fail(m) => assert!(m.contains("mandatory"), "{m}"),
        o => panic!("unsupported f32 must fail, got {o:?}"),
    }

    let r = conformance_filtered(&dev, "copy/float32/");
    assert_eq!(outcome(&r, "copy/float32/contig"), Outcome::Pass, "{r}");
    match outcome(&r, "copy/float32/0-dim") {
        Outcome::Fail(m) => assert!(m.contains("outside the output view"), "{m}"),
        o => panic!("a copy to the wrong offset must fail, got {o:?}"),
    }
    assert!(!r.is_ok() && r.to_string().contains("FAILURES"), "{r}");
    assert_eq!(r.to_json()["device"], "mutant:0");
}
