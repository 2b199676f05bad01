//! Philox 4x32-10, the counter-based generator every driver shares: one seed gives the
//! same numbers on every device (DESIGN.md, "random").

/// One Philox 4x32-10 block: four 32-bit outputs for a 128-bit counter and 64-bit key.
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    const M0: u64 = 0xD251_1F53;
    const M1: u64 = 0xCD9E_8D57;
    const W0: u32 = 0x9E37_79B9;
    const W1: u32 = 0xBB67_AE85;
    let (mut c, mut k) = (ctr, key);
    for _ in 0..10 {
        let p0 = M0 * c[0] as u64;
        let p1 = M1 * c[2] as u64;
        c = [
            ((p1 >> 32) as u32) ^ c[1] ^ k[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ c[3] ^ k[1],
            p0 as u32,
        ];
        k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
    }
    c
}

/// The four words for element `i` of a draw at counter `offset` under `seed`.
#[inline]
pub fn philox_at(seed: u64, offset: u64, i: u64) -> [u32; 4] {
    let ctr = offset.wrapping_add(i);
    philox4x32_10(
        [ctr as u32, (ctr >> 32) as u32, 0, 0],
        [seed as u32, (seed >> 32) as u32],
    )
}

/// A uniform in `[0, 1)` with 24 random bits (the f32/f16/bf16 formula on every driver).
#[inline]
pub fn unit_f32(w: u32) -> f32 {
    (w >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// `low + unit_f32(w) * range`, summed from partial products that are exact in f32 (12-bit
/// halves of the 24-bit draw and of `range`), so every driver draws the same bits whether or
/// not its shader compiler fuses a multiply and an add (GPUs do, unasked and unstoppably).
#[inline]
pub fn uniform_f32(w: u32, low: f32, range: f32) -> f32 {
    let k = w >> 8;
    let uh = (k >> 12) as f32 * (1.0 / 4096.0);
    let ul = (k & 0xfff) as f32 * (1.0 / 16_777_216.0);
    let rh = f32::from_bits(range.to_bits() & 0xffff_f000);
    let rl = range - rh;
    let v = low + uh * rh;
    let v = v + (uh * rl + ul * rh);
    v + ul * rl
}

/// A uniform in `[0, 1)` with 53 random bits (the f64 formula).
#[inline]
pub fn unit_f64(hi: u32, lo: u32) -> f64 {
    let bits = ((hi as u64) << 21) ^ ((lo as u64) >> 11);
    bits as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// A standard normal from one Philox block (Box–Muller on the first two words), f32 path.
#[inline]
pub fn normal_f32(w: [u32; 4]) -> f32 {
    let u1 = ((w[0] >> 8) as f32 + 1.0) * (1.0 / 16_777_216.0);
    let u2 = unit_f32(w[1]);
    crate::math::sqrtf(-2.0 * crate::math::logf(u1))
        * crate::math::cosf(core::f32::consts::TAU * u2)
}

/// A standard normal from one Philox block, f64 path.
#[inline]
pub fn normal_f64(w: [u32; 4]) -> f64 {
    let u1 = 1.0 - unit_f64(w[0], w[1]);
    let u2 = unit_f64(w[2], w[3]);
    crate::math::sqrt(-2.0 * crate::math::log(u1)) * crate::math::cos(core::f64::consts::TAU * u2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        // Random123's published known-answer test for philox4x32_10.
        assert_eq!(
            philox4x32_10([0, 0, 0, 0], [0, 0]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32_10([!0, !0, !0, !0], [!0, !0]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
    }
}
