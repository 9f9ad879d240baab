//! Cloud machines for a Strato cluster: one CloudProvider trait, AWS, Azure and GCP behind it
