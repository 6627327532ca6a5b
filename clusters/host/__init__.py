"""Facts about the host a cluster runs on (cgroups, capabilities) and the packages it needs."""
