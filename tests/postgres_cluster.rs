//! The PostgreSQL harness: a cluster answers queries, goes away and comes back with its data, is
//! its own among several, and leaves nothing listening once dropped.
#![cfg(unix)]

use std::net::{Ipv4Addr, TcpStream};

use flags_tests::postgres::Cluster;
use tokio_postgres::{Client, NoTls};

/// A client of `url`, its connection driven by a task that ends when the client is dropped or the
/// server goes away.
async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        // An error here is the server going away, which the client's next query reports.
        let _ = connection.await;
    });
    Ok(client)
}

async fn count_notes(client: &Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM notes", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_started_cluster_answers_a_query_at_its_url() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    assert!(
        cluster
            .url()
            .contains(&format!("@127.0.0.1:{}/", cluster.port()))
    );
    let client = connect(&cluster.url()).await.unwrap();
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
}

#[tokio::test]
async fn a_stopped_cluster_refuses_connections_and_starts_again_with_its_data() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let before = connect(&cluster.url()).await.unwrap();
    before
        .batch_execute("CREATE TABLE notes (text TEXT NOT NULL); INSERT INTO notes VALUES ('kept')")
        .await
        .unwrap();
    let port = cluster.port();

    cluster.stop();
    assert!(
        before.query_one("SELECT 1", &[]).await.is_err(),
        "a session open when the server stopped still answered"
    );
    assert!(
        connect(&cluster.url()).await.is_err(),
        "a stopped cluster accepted a connection"
    );

    cluster.start_again();
    assert_eq!(cluster.port(), port);
    let after = connect(&cluster.url()).await.unwrap();
    let text: String = after
        .query_one("SELECT text FROM notes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(text, "kept");
}

#[tokio::test]
async fn clusters_started_together_have_their_own_ports_and_data() {
    let Some(first) = Cluster::start_if_installed() else {
        return;
    };
    let second = Cluster::start();
    assert_ne!(first.port(), second.port());
    let first_client = connect(&first.url()).await.unwrap();
    let second_client = connect(&second.url()).await.unwrap();
    first_client
        .batch_execute("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('first')")
        .await
        .unwrap();
    second_client
        .batch_execute("CREATE TABLE notes (text TEXT)")
        .await
        .unwrap();
    assert_eq!(count_notes(&first_client).await, 1);
    assert_eq!(count_notes(&second_client).await, 0);
}

#[tokio::test]
async fn a_created_database_is_reached_at_the_url_it_returns() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let url = cluster.create_database("store");
    assert_eq!(url, cluster.url().replace("/postgres", "/store"));
    let client = connect(&url).await.unwrap();
    let name: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "store");
}

#[test]
fn a_dropped_cluster_stops_listening_on_its_port() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    let port = cluster.port();
    TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("the started cluster is listening");
    drop(cluster);
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "port {port} still accepts connections after the cluster was dropped"
    );
}

#[test]
fn starting_again_on_a_port_taken_meanwhile_panics_with_the_server_log() {
    let Some(cluster) = Cluster::start_if_installed() else {
        return;
    };
    cluster.stop();
    let _taken = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, cluster.port())).unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cluster.start_again()))
        .expect_err("the server started on a port another listener holds");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("Address already in use"), "{message}");
}
