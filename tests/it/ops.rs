//! `/health` and `/metrics`: the figures they give are those of the catalogue the
//! machine API serves.

use serde_json::Value;

use crate::golden::build;
use crate::http::Answers;
use crate::inproc::InProc;

#[test]
fn health_and_metrics_count_what_the_machine_api_serves() {
    let (_tmp, dir) = build();
    let served = InProc::start(&dir);
    let datasets: Value =
        serde_json::from_slice(&served.get("/machine/datasets").body).expect("JSON");
    let datasets = datasets.as_array().expect("a list");
    let records: u64 = datasets
        .iter()
        .map(|d| d["distributions"].as_u64().expect("a count"))
        .sum();
    let health: Value = serde_json::from_slice(&served.get("/health").body).expect("JSON");
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["generation"], 1);
    assert_eq!(health["datasets"], datasets.len());
    assert_eq!(health["distributions"], records);
    assert!(health["access_indexes"].as_u64() > Some(0), "{health}");
    assert_eq!(health["problems"], serde_json::json!([]));

    let metrics = served.get("/metrics");
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let metrics = metrics.text();
    for gauge in [
        "fair_catalogue_generation 1".to_string(),
        format!("fair_catalogue_datasets {}", datasets.len()),
        format!("fair_catalogue_distributions {records}"),
        "fair_catalogue_problems 0".to_string(),
    ] {
        assert!(metrics.lines().any(|l| l == gauge), "{gauge}\n{metrics}");
    }
}
