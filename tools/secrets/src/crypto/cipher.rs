//! The per-value cipher: AES-256-GCM with a 32-byte IV and the key path as
//! additional data, written as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`
//! (sops's `aes/cipher.go`).

use aes_gcm::aead::consts::{U12, U32};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use zeroize::Zeroizing;

use crate::format::{gofmt, timestamp};
use crate::tree::Value;

/// The decoded parts of one `ENC[...]` value.
#[derive(Debug)]
pub struct Sealed {
    pub data: Vec<u8>,
    pub iv: Vec<u8>,
    pub tag: Vec<u8>,
    pub datatype: String,
}

/// Why one value could not be decrypted.
#[derive(Debug, PartialEq)]
pub enum OpenError {
    /// The text does not follow the `ENC[...]` grammar.
    Malformed(String),
    /// AES-GCM refused it (wrong key, AAD, or altered bytes).
    Auth,
    /// The plaintext is not a valid value of the declared type.
    BadType(String),
}

/// Does this string look like a sops ciphertext (so it must decrypt)?
pub fn looks_encrypted(s: &str) -> bool {
    s.starts_with("ENC[")
}

/// Parses the `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` grammar.
pub fn parse(s: &str) -> Result<Sealed, OpenError> {
    let bad = |m: &str| OpenError::Malformed(m.to_string());
    let body = s
        .strip_prefix("ENC[")
        .ok_or_else(|| bad("it does not start with `ENC[`"))?;
    let body = body
        .strip_suffix(']')
        .ok_or_else(|| bad("it does not end with `]` (truncated?)"))?;
    let (cipher, rest) = body
        .split_once(',')
        .ok_or_else(|| bad("expected `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`"))?;
    if cipher != "AES256_GCM" {
        return Err(OpenError::Malformed(format!(
            "unknown cipher `{cipher}` (only AES256_GCM is supported)"
        )));
    }
    let mut fields = [
        ("data:", None),
        ("iv:", None),
        ("tag:", None),
        ("type:", None),
    ];
    let parts: Vec<&str> = rest.split(',').collect();
    if parts.len() != 4 {
        return Err(bad("expected the four fields data, iv, tag and type"));
    }
    for (slot, part) in fields.iter_mut().zip(parts) {
        let value = part.strip_prefix(slot.0).ok_or_else(|| {
            OpenError::Malformed(format!(
                "expected field `{}` but found `{part}`",
                &slot.0[..slot.0.len() - 1]
            ))
        })?;
        slot.1 = Some(value);
    }
    let decode = |name: &str, v: Option<&str>| -> Result<Vec<u8>, OpenError> {
        let v = v.unwrap_or_default();
        if v.is_empty() {
            return Err(OpenError::Malformed(format!("field `{name}` is empty")));
        }
        B64.decode(v)
            .map_err(|e| OpenError::Malformed(format!("field `{name}` is not valid base64 ({e})")))
    };
    let datatype = fields[3].1.unwrap_or_default().to_string();
    if !matches!(
        datatype.as_str(),
        "str" | "int" | "float" | "bool" | "time" | "comment" | "bytes"
    ) {
        return Err(OpenError::Malformed(format!(
            "unknown type `{datatype}` (expected str, int, float, bool, time, comment or bytes)"
        )));
    }
    Ok(Sealed {
        data: B64
            .decode(fields[0].1.unwrap_or_default())
            .map_err(|e| OpenError::Malformed(format!("field `data` is not valid base64 ({e})")))?,
        iv: decode("iv", fields[1].1)?,
        tag: decode("tag", fields[2].1)?,
        datatype,
    })
}

/// The type name and plaintext bytes sops uses for a value (`ToBytes`, plus
/// the ciphertext's `type:` field). `None` for values that are never
/// encrypted (null, collections).
pub fn plaintext(value: &Value) -> Option<(&'static str, Zeroizing<Vec<u8>>)> {
    let (t, bytes) = match value {
        Value::Str(s) => ("str", s.as_bytes().to_vec()),
        Value::Int(i) => ("int", i.to_string().into_bytes()),
        Value::Float(f) => ("float", gofmt::format_f(*f).into_bytes()),
        Value::Bool(b) => (
            "bool",
            if *b { "True" } else { "False" }.as_bytes().to_vec(),
        ),
        Value::Time(t) => ("time", t.as_bytes().to_vec()),
        Value::Comment(c) => ("comment", c.as_bytes().to_vec()),
        Value::Bytes(b) => ("bytes", b.clone()),
        Value::Null | Value::Map(_) | Value::Seq(_) => return None,
    };
    Some((t, Zeroizing::new(bytes)))
}

fn seal_raw(key: &[u8; 32], iv: &[u8; 32], plain: &[u8], aad: &str) -> Vec<u8> {
    let cipher = AesGcm::<Aes256, U32>::new(key.into());
    // Encryption with a valid key and nonce size cannot fail.
    cipher
        .encrypt(
            iv.into(),
            Payload {
                msg: plain,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_default()
}

/// Encrypts one value under `aad` with the given IV.
pub fn seal(key: &[u8; 32], iv: &[u8; 32], datatype: &str, plain: &[u8], aad: &str) -> String {
    let out = seal_raw(key, iv, plain, aad);
    let (data, tag) = out.split_at(out.len().saturating_sub(16));
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        B64.encode(data),
        B64.encode(iv),
        B64.encode(tag),
        datatype
    )
}

/// A fresh random IV.
pub fn random_iv() -> [u8; 32] {
    let mut iv = [0u8; 32];
    getrandom::getrandom(&mut iv).unwrap_or_default();
    iv
}

/// Decrypts one `ENC[...]` string to its typed value.
pub fn open(key: &[u8; 32], text: &str, aad: &str) -> Result<(Value, Vec<u8>), OpenError> {
    let sealed = parse(text)?;
    let mut msg = sealed.data.clone();
    msg.extend_from_slice(&sealed.tag);
    if sealed.tag.len() != 16 {
        return Err(OpenError::Malformed(format!(
            "tag is {} bytes, expected 16",
            sealed.tag.len()
        )));
    }
    let payload = Payload {
        msg: &msg,
        aad: aad.as_bytes(),
    };
    let plain =
        Zeroizing::new(
            match sealed.iv.len() {
                32 => AesGcm::<Aes256, U32>::new(key.into())
                    .decrypt(sealed.iv.as_slice().into(), payload),
                12 => AesGcm::<Aes256, U12>::new(key.into())
                    .decrypt(sealed.iv.as_slice().into(), payload),
                n => {
                    return Err(OpenError::Malformed(format!(
                        "iv is {n} bytes, expected 32"
                    )))
                }
            }
            .map_err(|_| OpenError::Auth)?,
        );
    let bad = || OpenError::BadType(sealed.datatype.clone());
    let text = || {
        std::str::from_utf8(&plain)
            .map(str::to_string)
            .map_err(|_| bad())
    };
    let value = match sealed.datatype.as_str() {
        "str" => Value::Str(text()?),
        "int" => Value::Int(go_atoi(&text()?).ok_or_else(bad)?),
        "float" => Value::Float(crate::format::resolve::go_parse_float(&text()?).ok_or_else(bad)?),
        "bool" => Value::Bool(go_parse_bool(&text()?).ok_or_else(bad)?),
        "time" => Value::Time(timestamp::parse_rfc3339(&text()?).ok_or_else(bad)?),
        "comment" => Value::Comment(text()?),
        "bytes" => Value::Bytes(plain.to_vec()),
        _ => return Err(bad()),
    };
    Ok((value, sealed.iv))
}

fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_grammar() {
        let key = [7u8; 32];
        let iv = random_iv();
        let enc = seal(&key, &iv, "int", b"42", "a:b:");
        assert_eq!(open(&key, &enc, "a:b:").unwrap().0, Value::Int(42));
        assert_eq!(open(&key, &enc, "a:").unwrap_err(), OpenError::Auth);
        assert!(
            matches!(parse("ENC[AES128_GCM,data:a,iv:b,tag:c,type:str]"), Err(OpenError::Malformed(m)) if m.contains("unknown cipher"))
        );
        assert!(
            matches!(parse("ENC[AES256_GCM,data:a,iv:b,tag:c,type:blob]"), Err(OpenError::Malformed(m)) if m.contains("unknown type"))
        );
        assert!(
            matches!(parse("ENC[AES256_GCM,data:!!,iv:AA==,tag:AA==,type:str]"), Err(OpenError::Malformed(m)) if m.contains("base64"))
        );
    }
}
