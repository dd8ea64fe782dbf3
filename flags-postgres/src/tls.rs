//! TLS to the database, as libpq's `sslmode` and `sslrootcert` ask for it: the one part of a
//! database URL tokio-postgres cannot read (it knows `disable`, `prefer` and `require` only, and
//! no root certificates), taken out of the URL here and carried out with rustls.
//!
//! | `sslmode` | encrypted | the server's certificate |
//! | --- | --- | --- |
//! | `disable` | no | — |
//! | `prefer` (the default) | if the server offers it | not checked |
//! | `require` | yes | not checked; with `sslrootcert`, signed by a root in it (as libpq does) |
//! | `verify-ca` | yes | signed by a root in `sslrootcert` |
//! | `verify-full` | yes | signed by a root in `sslrootcert`, and naming the host connected to |
//!
//! Without `sslrootcert`, `verify-ca` and `verify-full` read `~/.postgresql/root.crt`, as libpq
//! does.

use std::error::Error;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flags_core::live::StoreError;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;

pub(crate) use connect::{Connector, TlsStream};

mod connect;

/// What `sslmode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// How connections to the database are made secure.
pub(crate) struct Tls {
    mode: Mode,
    /// The file of root certificates the server's certificate is checked against, if it is.
    roots: Option<PathBuf>,
    pub(crate) connector: Connector,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("mode", &self.mode)
            .field("roots", &self.roots)
            .finish_non_exhaustive()
    }
}

/// Reads `url`'s `sslmode` and `sslrootcert` (in a URL's query, or among `key=value` pairs), and
/// returns tokio-postgres's configuration of what is left with the mode it knows, and the TLS
/// that carries out the mode asked for. Every error is [`StoreError::Misconfigured`], and none
/// shows the URL (it may hold a password).
pub(crate) fn parse(url: &str) -> Result<(tokio_postgres::Config, Tls), StoreError> {
    let (rest, settings) = match url.starts_with("postgres://") || url.starts_with("postgresql://")
    {
        true => split_url(url)?,
        false => split_pairs(url)?,
    };
    let mode = match settings.mode.as_deref() {
        None => Mode::Prefer,
        Some("disable") => Mode::Disable,
        Some("prefer") => Mode::Prefer,
        Some("require") => Mode::Require,
        Some("verify-ca") => Mode::VerifyCa,
        Some("verify-full") => Mode::VerifyFull,
        // `allow` tries plain text first: a choice a store of flags has no use for.
        Some(other) => {
            return Err(StoreError::misconfigured(format!(
                "the database URL's sslmode {other:?} is not one this store takes: write \
                 disable, prefer, require, verify-ca or verify-full"
            )));
        }
    };
    let mut config: tokio_postgres::Config = rest.parse().map_err(|_| {
        StoreError::misconfigured(
            "the database URL cannot be read: write it as \
             postgres://USER:PASSWORD@HOST:PORT/DATABASE, or as key=value pairs \
             (host=... user=... dbname=...)",
        )
    })?;
    config.ssl_mode(match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    });
    let roots = match (mode, settings.roots) {
        (Mode::Disable, _) => None,
        (_, Some(path)) => Some(path),
        (Mode::VerifyCa | Mode::VerifyFull, None) => Some(default_roots(mode)?),
        // libpq's rule, kept for its users: require checks the chain when the default roots
        // exist.
        (Mode::Require, None) => default_roots(mode).ok(),
        (Mode::Prefer, None) => None,
    };
    let connector = Connector::new(client_config(mode, roots.as_deref())?);
    Ok((
        config,
        Tls {
            mode,
            roots,
            connector,
        },
    ))
}

impl Tls {
    /// What went wrong in a TLS handshake with `host` (`None`: one not known by name) that
    /// `error` reports, in words an operator can act on; `None` when `error` is not about TLS.
    pub(crate) fn describe(
        &self,
        error: &(dyn Error + 'static),
        host: Option<&str>,
    ) -> Option<String> {
        let rustls = cause::<rustls::Error>(error)?;
        let roots = match &self.roots {
            Some(roots) => roots.display().to_string(),
            None => String::from("the roots"),
        };
        let what = match rustls {
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature,
            ) => format!("the server's certificate is not signed by a CA in {roots}"),
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => match host {
                Some(host) => format!("the server's certificate does not name the host {host}"),
                None => {
                    String::from("the server's certificate does not name the host connected to")
                }
            },
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            ) => String::from("the server's certificate has expired"),
            other => format!("the TLS handshake failed: {other}"),
        };
        Some(format!("{what} (sslmode={})", self.mode.name()))
    }
}

/// The first error of type `T` in `error`'s chain, looking inside I/O errors too (which is where
/// a TLS library's error travels).
fn cause<'a, T: Error + 'static>(error: &'a (dyn Error + 'static)) -> Option<&'a T> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        let inner = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<T>());
        if inner.is_some() {
            return inner;
        }
        next = error.source();
    }
    None
}

/// The TLS settings a URL holds, taken out of it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Settings {
    mode: Option<String>,
    roots: Option<PathBuf>,
}

/// `postgres://…?sslmode=…&sslrootcert=…`: the URL without the two, and what they say.
fn split_url(url: &str) -> Result<(String, Settings), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), Settings::default()));
    };
    let mut settings = Settings::default();
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map(|value| value.into_owned())
                .map_err(|_| {
                    StoreError::misconfigured(format!(
                        "the database URL's {key} is not UTF-8 once percent-decoded"
                    ))
                })
        };
        match key {
            "sslmode" => settings.mode = Some(decoded()?),
            "sslrootcert" => settings.roots = Some(PathBuf::from(decoded()?)),
            _ => kept.push(pair),
        }
    }
    let rest = match kept.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", kept.join("&")),
    };
    Ok((rest, settings))
}

/// `host=… sslmode=… sslrootcert=…`: the pairs without the two, and what they say. A value is
/// a word, or in single quotes with `\'` and `\\` for a quote and a backslash, as libpq reads it.
fn split_pairs(text: &str) -> Result<(String, Settings), StoreError> {
    let unreadable = || {
        StoreError::misconfigured(
            "the database URL cannot be read: write key=value pairs separated by spaces \
             (host=... user=... dbname=...), quoting a value with spaces in single quotes",
        )
    };
    let mut settings = Settings::default();
    let mut kept = String::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let start = rest;
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .ok_or_else(unreadable)?;
        let key = &rest[..key_end];
        rest = rest[key_end..].trim_start();
        rest = rest.strip_prefix('=').ok_or_else(unreadable)?.trim_start();
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let quoted = rest.starts_with('\'');
        if quoted {
            chars.next();
        }
        let mut end = rest.len();
        let mut closed = !quoted;
        while let Some((index, c)) = chars.next() {
            match c {
                '\\' => value.extend(chars.next().map(|(_, escaped)| escaped)),
                '\'' if quoted => {
                    end = index + 1;
                    closed = true;
                    break;
                }
                c if c.is_whitespace() && !quoted => {
                    end = index;
                    break;
                }
                c => value.push(c),
            }
        }
        if !closed || key.is_empty() {
            return Err(unreadable());
        }
        let pair = &start[..start.len() - rest.len() + end];
        rest = rest[end..].trim_start();
        match key {
            "sslmode" => settings.mode = Some(value),
            "sslrootcert" => settings.roots = Some(PathBuf::from(value)),
            _ => {
                kept.push_str(pair);
                kept.push(' ');
            }
        }
    }
    Ok((kept.trim_end().to_owned(), settings))
}

/// `~/.postgresql/root.crt`, where libpq looks for roots without `sslrootcert`.
fn default_roots(mode: Mode) -> Result<PathBuf, StoreError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let path = home.map(|home| home.join(".postgresql/root.crt"));
    match path {
        Some(path) if path.exists() => Ok(path),
        _ => Err(no_roots(mode)),
    }
}

/// The error of a mode that checks the server's certificate with no roots to check it against.
fn no_roots(mode: Mode) -> StoreError {
    StoreError::misconfigured(format!(
        "sslmode={} checks the server's certificate against root certificates, and there are \
         none: add sslrootcert=FILE to the database URL (a PEM file of the CA that signed the \
         server's certificate), or put them in ~/.postgresql/root.crt",
        mode.name()
    ))
}

/// rustls's configuration for `mode`, with the roots in the PEM file `roots`, if any.
fn client_config(mode: Mode, roots: Option<&Path>) -> Result<ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = match roots {
        Some(path) => {
            let roots = Arc::new(read_roots(path)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
                .build()
                .map_err(|error| {
                    StoreError::misconfigured(format!(
                        "the root certificates in {} cannot be used: {error}",
                        path.display()
                    ))
                })?;
            Some(webpki)
        }
        None => None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, chain) {
        (Mode::VerifyFull, Some(webpki)) => webpki,
        (Mode::VerifyCa | Mode::VerifyFull, None) => return Err(no_roots(mode)),
        (_, chain) => Arc::new(SignedByRoot {
            chain,
            provider: Arc::clone(&provider),
        }),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| StoreError::misconfigured(format!("TLS cannot be set up: {error}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

/// The most a file of root certificates is read: far more than any bundle, and a bound for a
/// path that names a device that never ends (`/dev/zero`).
const ROOTS_LIMIT: u64 = 4 * 1024 * 1024;

/// The certificates of the PEM file at `path`; an error when there are none.
fn read_roots(path: &Path) -> Result<RootCertStore, StoreError> {
    let unreadable = |why: String| {
        StoreError::misconfigured(format!(
            "sslrootcert {} cannot be used: {why}; give a PEM file of the CA that signed the \
             server's certificate",
            path.display()
        ))
    };
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| std::io::Read::take(file, ROOTS_LIMIT + 1).read_to_end(&mut pem))
        .map_err(|error| unreadable(error.to_string()))?;
    if pem.len() as u64 > ROOTS_LIMIT {
        return Err(unreadable(format!("it is over {} MiB", ROOTS_LIMIT >> 20)));
    }
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| unreadable(error.to_string()))?;
    if certificates.is_empty() {
        return Err(unreadable(String::from("it holds no certificate")));
    }
    let mut roots = RootCertStore::empty();
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|error| unreadable(error.to_string()))?;
    }
    Ok(roots)
}

/// What `prefer`, `require` and `verify-ca` check of the server's certificate (`verify-full` is
/// rustls's own verifier): with roots, that a root signs it, whatever host it names; without,
/// nothing (the certificate taken as it is, as libpq does). The handshake's signatures are
/// checked either way.
#[derive(Debug)]
struct SignedByRoot {
    /// The roots' verifier, whose check of the name is set aside; `None` without roots.
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for SignedByRoot {
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
        let verified =
            chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match verified {
            // The name is checked after the chain: a name error means the chain holds.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            verified => verified,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, certificate, signature, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, certificate, signature, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> (String, Settings) {
        split_pairs(text).unwrap()
    }

    #[test]
    fn a_urls_tls_settings_are_taken_out_and_the_rest_kept() {
        let (rest, settings) = split_url(
            "postgres://u:p%40ss@db:5432/app?application_name=x&sslmode=verify-full&\
             sslrootcert=%2Fetc%2Fca%20root.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://u:p%40ss@db:5432/app?application_name=x&connect_timeout=3"
        );
        assert_eq!(settings.mode.as_deref(), Some("verify-full"));
        assert_eq!(settings.roots, Some(PathBuf::from("/etc/ca root.pem")));
        let (rest, settings) = split_url("postgres://db/app?sslmode=require").unwrap();
        assert_eq!((rest.as_str(), settings.roots), ("postgres://db/app", None));
        assert_eq!(
            split_url("postgres://db/app").unwrap().1,
            Settings::default()
        );
    }

    #[test]
    fn key_value_pairs_keep_their_quoting_and_lose_the_tls_settings() {
        let (rest, settings) = pairs(
            "host=db password='it\\'s here' sslmode = verify-ca sslrootcert='/etc/my ca.pem' \
             dbname=app",
        );
        assert_eq!(rest, "host=db password='it\\'s here' dbname=app");
        assert_eq!(settings.mode.as_deref(), Some("verify-ca"));
        assert_eq!(settings.roots, Some(PathBuf::from("/etc/my ca.pem")));
        assert_eq!(pairs("host=db").0, "host=db");
        for bad in ["host", "host=db sslmode", "password='open", "=x"] {
            assert!(split_pairs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_mode_is_prefer_unless_said_and_a_mode_it_does_not_know_is_misconfigured() {
        let (config, tls) = parse("postgres://flags@127.0.0.1/app").unwrap();
        assert_eq!(
            (config.get_ssl_mode(), tls.mode),
            (SslMode::Prefer, Mode::Prefer)
        );
        let (config, tls) = parse("host=127.0.0.1 user=flags sslmode=disable").unwrap();
        assert_eq!(
            (config.get_ssl_mode(), tls.mode),
            (SslMode::Disable, Mode::Disable)
        );
        let error = parse("postgres://u:hunter2@db/app?sslmode=allow").unwrap_err();
        assert!(matches!(error, StoreError::Misconfigured { .. }), "{error}");
        assert!(!error.is_retryable());
        assert!(!format!("{error} {error:?}").contains("hunter2"));
        let error =
            parse("postgres://db/app?sslmode=verify-full&sslrootcert=/nowhere.pem").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("sslrootcert /nowhere.pem cannot be used"),
            "{error}"
        );
    }

    proptest::proptest! {
        #[test]
        fn no_url_makes_the_parser_panic(text in ".*") {
            let _ = parse(&text);
            let _ = parse(&format!("postgres://{text}"));
            let _ = parse(&format!("postgres://db/app?{text}"));
        }
    }
}
