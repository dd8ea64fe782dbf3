use flags_core::FeatureFlags;

#[derive(FeatureFlags)]
struct Settings {
    #[flag(env = "LISTEN", from_str, serde)]
    listen: std::net::SocketAddr,
    #[flag(env = "UPSTREAM", from_str, secret)]
    upstream: Option<std::net::SocketAddr>,
}

fn main() {}
