//! `strato cloud` against moto (AWS) and recorded-shape fake servers (Azure, GCP).
