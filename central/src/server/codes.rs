//! Verification codes printed on certificates: unguessable, easy to read aloud
//! and to type back in.

/// A fresh verification code: 12 characters of Crockford base32 (60 random
/// bits), grouped for reading aloud: "7KQ2-M9XD-4HTR".
pub fn new_verification_code() -> String {
    grouped_random_code(3)
}

/// `groups` groups of four random Crockford base32 characters (20 bits each),
/// joined by dashes: no I, L, O or U to misread.
pub fn grouped_random_code(groups: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..groups * 4)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Normalises a typed-in code: upper case, no spaces, Crockford look-alikes mapped.
pub fn normalize_verification_code(code: &str) -> String {
    code.trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}
