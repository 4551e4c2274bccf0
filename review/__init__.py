"""The reviewer database: schema migrations, the sink writer and the analyst queue."""
