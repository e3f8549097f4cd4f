//! Encoding of Bitstring Status Lists (W3C Bitstring Status List v1.0 §3.2): the bitstring is
//! GZIP-compressed and written as multibase base64url without padding (prefix `u`).

use std::io::Write;

use base64::Engine;

/// `u` + base64url(gzip(bits)).
pub fn encode_list(bits: &[u8]) -> Result<String, std::io::Error> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bits)?;
    let zipped = gz.finish()?;
    Ok(format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zipped)
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn round_trips_through_gzip_and_base64url() {
        let mut bits = vec![0u8; 16_384];
        bits[0] = 0x80;
        bits[11_820] = 0x01;
        let encoded = encode_list(&bits).expect("encode");
        assert!(encoded.starts_with('u'));
        assert!(
            encoded.len() < 200,
            "a sparse list compresses: {}",
            encoded.len()
        );
        let zipped = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&encoded[1..])
            .expect("base64url");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, bits);
    }
}
