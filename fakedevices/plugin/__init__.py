"""The DRA kubelet plugin: registration, prepare/unprepare, health, CDI specs and ResourceSlices."""
