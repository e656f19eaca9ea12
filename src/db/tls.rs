//! TLS to the hub's PostgreSQL, as libpq's `sslmode` and `sslrootcert` ask, over rustls.
//!
//! rust-postgres reads `sslmode` up to `require` and leaves what a certificate must prove
//! to the TLS connector; managed servers (and their IT) write libpq's URLs, with
//! `verify-full` and a CA file. So both are taken out of the URL here and given the
//! meaning libpq gives them:
//!
//! | `sslmode` | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | no | — |
//! | `prefer` (the default) | when the server offers it | no |
//! | `require` | yes | no; against `sslrootcert` when one is given (as `verify-ca`) |
//! | `verify-ca` | yes | signed by a trusted CA |
//! | `verify-full` | yes | signed by a trusted CA, for the host connected to |
//!
//! The trusted CAs are `sslrootcert`'s (a PEM file); `verify-full` without one (or with
//! `sslrootcert=system`) trusts the system's; `verify-ca` needs a file, since any public
//! CA would otherwise do, for any name.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_postgres_rustls::MakeRustlsConnect;

/// What a certificate must prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The TLS a connection asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub mode: Mode,
    /// `sslrootcert`: a PEM file of trusted CAs (`None`: the system's).
    pub root_cert: Option<PathBuf>,
}

impl Default for Tls {
    fn default() -> Tls {
        Tls {
            mode: Mode::Prefer,
            root_cert: None,
        }
    }
}

/// Takes `sslmode` and `sslrootcert` out of a `postgres://` URL: the URL rust-postgres
/// reads (its other parameters byte for byte, `sslmode` as it understands it), and the
/// TLS they ask for. A `key=value` string is left as it is (rust-postgres reads its
/// `sslmode`, up to `require`).
pub fn split(url: &str) -> Result<(String, Tls), String> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let Some((base, query)) = url.split_once('?').filter(|_| is_url) else {
        return Ok((url.to_owned(), Tls::default()));
    };
    let mut mode = None;
    let mut root = None;
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| format!("{key} in the database URL is not UTF-8"))?;
        match key {
            "sslmode" => {
                mode = Some(match &*value {
                    "disable" => Mode::Disable,
                    "allow" | "prefer" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(format!(
                            "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                        ));
                    }
                });
            }
            "sslrootcert" => root = Some(value.into_owned()),
            _ => kept.push(pair),
        }
    }
    let tls = match (mode, root.as_deref()) {
        // libpq 16: the system's CAs are for checking the name, which is then the default.
        (None | Some(Mode::VerifyFull), Some("system")) => Tls {
            mode: Mode::VerifyFull,
            root_cert: None,
        },
        (Some(_), Some("system")) => {
            return Err("sslrootcert=system checks the server's name: it needs sslmode=verify-full".to_owned());
        }
        // libpq: with a CA file, `require` checks the certificate as `verify-ca` does.
        (Some(Mode::Require), Some(file)) => Tls {
            mode: Mode::VerifyCa,
            root_cert: Some(file.into()),
        },
        // Any public CA would do, for any name: no check at all.
        (Some(Mode::VerifyCa), None) => {
            return Err(
                "sslmode=verify-ca needs sslrootcert=FILE, the CA that signs the server's certificate".to_owned(),
            );
        }
        (mode, file) => Tls {
            mode: mode.unwrap_or(Mode::Prefer),
            root_cert: file.map(PathBuf::from),
        },
    };
    kept.push(match tls.mode {
        Mode::Disable => "sslmode=disable",
        Mode::Prefer => "sslmode=prefer",
        _ => "sslmode=require",
    });
    Ok((format!("{base}?{}", kept.join("&")), tls))
}

impl Tls {
    /// The connector for rust-postgres (with `disable`, one that is never asked).
    pub fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let chain = match self.mode {
            Mode::Disable | Mode::Prefer | Mode::Require => None,
            Mode::VerifyCa | Mode::VerifyFull => Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(self.roots()?), provider.clone())
                    .build()
                    .map_err(|e| format!("cannot check the database's certificate: {e}"))?,
            ),
        };
        let verifier = Arc::new(Verifier {
            chain,
            name: self.mode == Mode::VerifyFull,
            provider,
        });
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn roots(&self) -> Result<rustls::RootCertStore, String> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                let read = |e: &dyn std::fmt::Display| format!("cannot read sslrootcert {}: {e}", path.display());
                for cert in CertificateDer::pem_file_iter(path).map_err(|e| read(&e))? {
                    roots.add(cert.map_err(|e| read(&e))?).map_err(|e| read(&e))?;
                }
                if roots.is_empty() {
                    return Err(read(&"no certificate in it"));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err("the system has no trusted certificates; give sslrootcert=FILE".to_owned());
                }
            }
        }
        Ok(roots)
    }
}

/// What the mode asks of the server's certificate: its chain (`verify-ca`), its chain
/// and name (`verify-full`), or nothing (`prefer`, `require`: libpq's meaning). The
/// handshake's signatures are checked whatever the mode.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // rustls checks the chain before the name: a name error means the chain held.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. },
            )) if !self.name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_modes_are_read_and_the_rest_of_the_url_kept() {
        let (url, tls) = split(
            "postgres://u:p%40ss@db.example:5432/hub?sslmode=verify-full&options=-c%20x%3Dy+z&application_name=x",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://u:p%40ss@db.example:5432/hub?options=-c%20x%3Dy+z&application_name=x&sslmode=require"
        );
        assert_eq!(tls.mode, Mode::VerifyFull);
        let (_, tls) = split("postgres://h/d?sslrootcert=system").unwrap();
        assert_eq!((tls.mode, tls.root_cert), (Mode::VerifyFull, None));
        for weaker in ["require", "verify-ca", "prefer"] {
            let refused = split(&format!("postgres://h/d?sslrootcert=system&sslmode={weaker}")).unwrap_err();
            assert!(refused.contains("verify-full"), "{refused}");
        }
        let refused = split("postgres://h/d?sslmode=verify-ca").unwrap_err();
        assert!(refused.contains("sslrootcert"), "{refused}");
        let (_, tls) = split("postgres://h/d?sslmode=verify-ca&sslrootcert=%2Fetc%2Fca%2Bdb.pem").unwrap();
        assert_eq!(tls.root_cert, Some("/etc/ca+db.pem".into()));
        let kv = "host=h password=a?b sslmode=require";
        assert_eq!(split(kv).unwrap(), (kv.to_owned(), Tls::default()));

        let (_, tls) = split("postgres://h/d?sslmode=require&sslrootcert=/etc/ca.pem").unwrap();
        assert_eq!(
            tls,
            Tls {
                mode: Mode::VerifyCa,
                root_cert: Some("/etc/ca.pem".into())
            }
        );
        let (url, tls) = split("postgres://h/d").unwrap();
        assert_eq!((url.as_str(), tls), ("postgres://h/d", Tls::default()));
        let (url, tls) = split("postgres://h/d?sslmode=disable").unwrap();
        assert_eq!(
            (url.as_str(), tls.mode),
            ("postgres://h/d?sslmode=disable", Mode::Disable)
        );
        let refused = split("postgres://h/d?sslmode=sometimes").unwrap_err();
        assert!(refused.contains("sslmode=sometimes"), "{refused}");
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        for path in [dir.path().join("missing.pem"), empty] {
            let tls = Tls {
                mode: Mode::VerifyFull,
                root_cert: Some(path.clone()),
            };
            let e = tls.connector().err().expect("refused");
            assert!(e.contains(&path.display().to_string()), "{e}");
        }
    }
}
