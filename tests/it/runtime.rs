//! The runtime end to end: `strato up --local`, the real marathon client, DNS, the dashboard.
