//! Service-discovery DNS: <app>.marathon.<domain> A and SRV records, leader and master names
