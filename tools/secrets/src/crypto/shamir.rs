//! Shamir's secret sharing over GF(2^8), byte-compatible with sops's
//! `shamir` package (itself from HashiCorp Vault): each share is the
//! polynomial values followed by one byte, the x coordinate.

fn mult(a: u8, b: u8) -> u8 {
    let mut acc: u8 = 0;
    for i in (0..8).rev() {
        let bit = (b >> i) & 1;
        let a_or_zero = bit.wrapping_neg() & a;
        let reduce = (acc >> 7).wrapping_neg() & 0x1B;
        acc = a_or_zero ^ (reduce ^ acc.wrapping_add(acc));
    }
    acc
}

fn inverse(a: u8) -> u8 {
    let mut b = mult(a, a);
    let mut c = mult(a, b);
    b = mult(c, c);
    b = mult(b, b);
    c = mult(b, c);
    b = mult(b, b);
    b = mult(b, b);
    b = mult(b, c);
    b = mult(b, b);
    b = mult(a, b);
    mult(b, b)
}

/// Splits `secret` into `parts` shares, any `threshold` of which recover it.
pub fn split(secret: &[u8], parts: usize, threshold: usize) -> Result<Vec<Vec<u8>>, String> {
    if parts < threshold {
        return Err("parts cannot be less than threshold".into());
    }
    if parts > 255 {
        return Err("parts cannot exceed 255".into());
    }
    if threshold < 2 {
        return Err("threshold must be at least 2".into());
    }
    if secret.is_empty() {
        return Err("cannot split an empty secret".into());
    }
    let mut out: Vec<Vec<u8>> = (0..parts)
        .map(|i| {
            let mut v = vec![0u8; secret.len() + 1];
            v[secret.len()] = i as u8 + 1;
            v
        })
        .collect();
    let mut coefficients = vec![0u8; threshold];
    for (idx, &val) in secret.iter().enumerate() {
        coefficients[0] = val;
        getrandom::getrandom(&mut coefficients[1..]).map_err(|e| e.to_string())?;
        for (i, share) in out.iter_mut().enumerate() {
            let x = i as u8 + 1;
            let mut y = coefficients[threshold - 1];
            for c in coefficients[..threshold - 1].iter().rev() {
                y = mult(y, x) ^ c;
            }
            share[idx] = y;
        }
    }
    zeroize::Zeroize::zeroize(&mut coefficients);
    Ok(out)
}

/// Recombines shares made by [`split`].
pub fn combine(parts: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    if parts.len() < 2 {
        return Err("less than two parts cannot be used to reconstruct the secret".into());
    }
    let len = parts[0].len();
    if len < 2 {
        return Err("parts must be at least two bytes".into());
    }
    if parts.iter().any(|p| p.len() != len) {
        return Err("all parts must be the same length".into());
    }
    let xs: Vec<u8> = parts.iter().map(|p| p[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err("duplicate part detected".into());
        }
    }
    let mut secret = vec![0u8; len - 1];
    for (idx, byte) in secret.iter_mut().enumerate() {
        let mut result = 0u8;
        for i in 0..parts.len() {
            let mut basis = 1u8;
            for j in 0..parts.len() {
                if i != j {
                    let denom = xs[i] ^ xs[j];
                    basis = mult(basis, mult(xs[j], inverse(denom)));
                }
            }
            result ^= mult(parts[i][idx], basis);
        }
        *byte = result;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_two_of_three() {
        let secret = [42u8; 32];
        let shares = split(&secret, 3, 2).unwrap();
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            assert_eq!(
                combine(&[shares[a].clone(), shares[b].clone()]).unwrap(),
                secret
            );
        }
    }
}
