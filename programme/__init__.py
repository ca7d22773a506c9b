"""The programme database: schema, migrations, reference seed and the synthetic demo roster."""
