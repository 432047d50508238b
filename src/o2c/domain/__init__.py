"""The pure o2c domain model: no I/O, no clock reads, no globals."""
