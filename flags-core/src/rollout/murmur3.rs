//! MurmurHash3 x86_32, fed in pieces so `"{rollout_group}:{user}"` is hashed without building it.

/// The state of one MurmurHash3 x86_32 computation after some pieces of input.
///
/// Feeding `a` then `b` gives the hash of `a` and `b` concatenated, as Austin Appleby's reference
/// `MurmurHash3_x86_32` computes it over one buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Murmur3 {
    hash: u32,
    /// Bytes of an unfinished 4-byte block, little-endian, waiting for the next piece.
    tail: u32,
    tail_len: u32,
    /// The input length so far; the reference mixes it in as a 32-bit value.
    len: u32,
}

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

impl Murmur3 {
    pub(crate) const fn new(seed: u32) -> Self {
        Self {
            hash: seed,
            tail: 0,
            tail_len: 0,
            len: 0,
        }
    }

    /// The state after `"{name}:"`: what every key of one flag is hashed after.
    pub(super) fn keyed(seed: u32, name: &str) -> Self {
        Self::new(seed).write(name.as_bytes()).write(b":")
    }

    /// The state after `bytes` as well.
    ///
    /// It works on the fields as locals and returns a new state, which keeps the state in
    /// registers: through `&mut self` it went through memory, and a decision was a third slower.
    #[must_use]
    #[inline]
    pub(crate) fn write(self, bytes: &[u8]) -> Self {
        let Self {
            mut hash,
            mut tail,
            mut tail_len,
            len,
        } = self;
        let mut blocks = bytes;
        if tail_len > 0 {
            // Complete the block that the previous piece left unfinished.
            let taken;
            (tail, taken) = add_to_tail(tail, tail_len, bytes);
            tail_len += taken as u32;
            blocks = &bytes[taken..];
            if tail_len == 4 {
                hash = mix_block(hash, tail);
                (tail, tail_len) = (0, 0);
            }
        }
        let (blocks, rest) = blocks.as_chunks::<4>();
        for block in blocks {
            hash = mix_block(hash, u32::from_le_bytes(*block));
        }
        let taken;
        (tail, taken) = add_to_tail(tail, tail_len, rest);
        Self {
            hash,
            tail,
            tail_len: tail_len + taken as u32,
            len: len.wrapping_add(bytes.len() as u32),
        }
    }

    /// The hash of everything written so far, followed by `bytes`.
    #[inline]
    pub(super) fn hash_with(self, bytes: &[u8]) -> u32 {
        self.write(bytes).finish()
    }

    pub(crate) fn finish(self) -> u32 {
        // With no tail, `tail` is 0 and mixes to 0: the reference's `if` is not needed.
        finalize(self.hash ^ mix_key(self.tail) ^ self.len)
    }
}

/// `tail` with the first bytes of `bytes` put in its free bytes, above its `tail_len` bytes, and
/// how many bytes it took.
fn add_to_tail(mut tail: u32, tail_len: u32, bytes: &[u8]) -> (u32, usize) {
    // One shift per free byte: the loop stops when the block is full or the bytes run out.
    let shifts = (8 * tail_len..32).step_by(8);
    let mut taken = 0;
    for (shift, &byte) in shifts.zip(bytes) {
        tail |= u32::from(byte) << shift;
        taken += 1;
    }
    (tail, taken)
}

fn mix_key(key: u32) -> u32 {
    key.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

fn mix_block(hash: u32, key: u32) -> u32 {
    (hash ^ mix_key(key))
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn finalize(mut hash: u32) -> u32 {
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85eb_ca6b);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xc2b2_ae35);
    hash ^ (hash >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one_piece(bytes: &[u8], seed: u32) -> u32 {
        Murmur3::new(seed).hash_with(bytes)
    }

    /// Published vectors of the reference implementation: every tail length, seeds that matter,
    /// and text long enough for many blocks.
    #[test]
    fn matches_the_reference_vectors() {
        let vectors: &[(&[u8], u32, u32)] = &[
            (b"", 0, 0),
            (b"", 1, 0x514e_28b7),
            (b"", 0xffff_ffff, 0x81f1_6f39),
            (b"\0", 0, 0x514e_28b7),
            (b"\0\0", 0, 0x30f4_c306),
            (b"\0\0\0", 0, 0x85f0_b427),
            (b"\0\0\0\0", 0, 0x2362_f9de),
            (b"\xff\xff\xff\xff", 0, 0x7629_3b50),
            (b"\x21", 0, 0x7266_1cf4),
            (b"\x21\x43", 0, 0xa0f7_b07a),
            (b"\x21\x43\x65", 0, 0x7e4a_8634),
            (b"\x21\x43\x65\x87", 0, 0xf55b_516b),
            (b"\x21\x43\x65\x87", 0x5082_edee, 0x2362_f9de),
            (b"abc", 0, 0xb3dd_93fa),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                0,
                0xee92_5b90,
            ),
            (b"Hello, world!", 0x9747_b28c, 0x2488_4cba),
            ("ππππππππ".as_bytes(), 0x9747_b28c, 0xd580_63c1),
            (
                b"The quick brown fox jumps over the lazy dog",
                0x9747_b28c,
                0x2fa8_26cd,
            ),
            (&[b'a'; 256], 0x9747_b28c, 0x3740_5bdc),
        ];
        for &(bytes, seed, expected) in vectors {
            assert_eq!(
                one_piece(bytes, seed),
                expected,
                "{:?} with seed {seed:#x}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn keyed_state_hashes_name_colon_key() {
        assert_eq!(
            Murmur3::keyed(7, "group").hash_with(b"user"),
            one_piece(b"group:user", 7)
        );
    }

    proptest! {
        #[test]
        fn any_split_into_pieces_hashes_like_one_buffer(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            seed in any::<u32>(),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut state = Murmur3::new(seed);
            let mut start = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                state = state.write(&bytes[start..cut]);
                start = cut;
            }
            prop_assert_eq!(state.finish(), mur3::murmurhash3_x86_32(&bytes, seed));
        }
    }
}
