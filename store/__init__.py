"""The reviewer database: migrations, the sink writer, reads the worker and console share."""
