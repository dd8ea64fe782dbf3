//! TLS to a real server that the test starts with a certificate it makes: each `sslmode` does what
//! libpq's does, a certificate the client must not trust is refused with a reason an operator can
//! act on, and no error shows the password.

use std::path::Path;
use std::time::Duration;

use flags_core::live::StoreError;
use flags_postgres::PostgresStore;
use flags_tests::postgres::Cluster;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A password the URL carries; the server trusts loopback and never asks for it.
const PASSWORD: &str = "canary-tls-5b0e";

/// A certificate authority, able to sign servers' certificates.
struct Authority {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let pem = params.self_signed(&key).unwrap().pem();
        Authority {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A server's certificate for `names`, and its key, both PEM.
    fn sign(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let params = CertificateParams::new(names).unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        (certificate.pem(), key.serialize_pem())
    }

    fn write(&self, directory: &Path, name: &str) -> String {
        let path = directory.join(name);
        std::fs::write(&path, &self.pem).unwrap();
        path.display().to_string()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The URL of `cluster` reached at `host`, with a password and `query`.
fn url(cluster: &Cluster, host: &str, query: &str) -> String {
    let port = cluster.port();
    format!("postgres://flags:{PASSWORD}@{host}:{port}/postgres?{query}")
}

/// Whether the store's own connection is encrypted, as the server sees it: connects through the
/// store, and asks the server over a connection made the same way.
fn connects(url: &str) -> Result<(), StoreError> {
    let connecting = PostgresStore::builder(url, "rose")
        .require_database()
        .connect_within(Duration::from_secs(5))
        .connect();
    runtime().block_on(connecting).map(drop)
}

/// Whether the server sees its one other session, the store's, as encrypted.
fn store_session_is_encrypted(cluster: &Cluster, url: &str) -> bool {
    let runtime = runtime();
    runtime.block_on(async {
        let connecting = PostgresStore::builder(url, "rose")
            .require_database()
            .connect();
        let (store, driver) = connecting.await.unwrap();
        let driving = tokio::spawn(driver);
        let (client, connection) = tokio_postgres::connect(&cluster.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.application_name = 'flags rose'",
                &[],
            )
            .await
            .unwrap();
        drop(store);
        driving.await.unwrap();
        row.get::<_, Option<bool>>(0).unwrap()
    })
}

fn assert_refused(error: &StoreError, reason: &str) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(error.to_string().contains(reason), "{error}");
}

#[test]
fn each_sslmode_does_what_libpq_does_and_a_certificate_not_to_trust_is_refused_saying_why() {
    if !Cluster::installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new("flags test CA");
    let stranger = Authority::new("someone else's CA");
    let (certificate, key) = authority.sign(&["localhost"]);
    let cluster = Cluster::start_with_tls(&certificate, &key);
    let roots = authority.write(dir.path(), "ca.pem");
    let wrong = stranger.write(dir.path(), "wrong-ca.pem");

    // Encrypted, the certificate not checked.
    assert!(store_session_is_encrypted(
        &cluster,
        &url(&cluster, "127.0.0.1", "sslmode=require")
    ));
    // The default, prefer: encrypted, since the server offers it.
    assert!(store_session_is_encrypted(
        &cluster,
        &url(&cluster, "127.0.0.1", "connect_timeout=5")
    ));
    // Plain text when asked.
    assert!(!store_session_is_encrypted(
        &cluster,
        &url(&cluster, "127.0.0.1", "sslmode=disable")
    ));

    // The chain, against the right root: whatever the host name with verify-ca, the certificate's
    // with verify-full.
    let verify = |host: &str, mode: &str, roots: &str| {
        connects(&url(
            &cluster,
            host,
            &format!("sslmode={mode}&sslrootcert={roots}"),
        ))
    };
    verify("127.0.0.1", "verify-ca", &roots).unwrap();
    verify("localhost", "verify-full", &roots).unwrap();
    // libpq's rule: require with a root file checks the chain as verify-ca does.
    let error = verify("127.0.0.1", "require", &wrong).unwrap_err();
    assert_refused(&error, "the server's certificate is not signed by a CA in");

    // Refused: another CA's roots, or a host the certificate does not name.
    let error = verify("localhost", "verify-full", &wrong).unwrap_err();
    assert_refused(
        &error,
        &format!("the server's certificate is not signed by a CA in {wrong} (sslmode=verify-full)"),
    );
    assert!(
        error.is_retryable(),
        "the server may be given another certificate"
    );
    let error = verify("127.0.0.1", "verify-full", &roots).unwrap_err();
    assert_refused(
        &error,
        "the server's certificate does not name the host 127.0.0.1 (sslmode=verify-full)",
    );

    // What cannot work is said before any connection, and is not "unavailable".
    let missing = dir.path().join("missing.pem").display().to_string();
    let error = verify("localhost", "verify-full", &missing).unwrap_err();
    assert!(matches!(error, StoreError::Misconfigured { .. }), "{error}");
    assert_refused(&error, &format!("sslrootcert {missing} cannot be used"));
    let error = connects(&url(&cluster, "localhost", "sslmode=verify-everything")).unwrap_err();
    assert!(matches!(error, StoreError::Misconfigured { .. }), "{error}");
    assert_refused(
        &error,
        "write disable, prefer, require, verify-ca or verify-full",
    );
}

/// A server without TLS: prefer connects in plain text, require is refused.
#[test]
fn without_tls_on_the_server_prefer_connects_plainly_and_require_is_refused() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    assert!(!store_session_is_encrypted(
        &cluster,
        &url(&cluster, "127.0.0.1", "sslmode=prefer")
    ));
    let error = connects(&url(&cluster, "127.0.0.1", "sslmode=require")).unwrap_err();
    assert_refused(
        &error,
        "the database is required at start, and cannot be used",
    );
}
