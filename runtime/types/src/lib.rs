//! Marathon's JSON shapes (apps, tasks, deployments, groups, queue) with Marathon's validation rules
