import logging
from contextlib import contextmanager
from logging.config import fileConfig

from flask import current_app

from alembic import context
from sqlalchemy import event

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)  # keep the app's loggers (secret-key warning)
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    # One transaction for the whole run, on every database: a run that fails at any step leaves
    # the database as it was (version stamp, tables, triggers and rows).
    conf_args["transaction_per_migration"] = False

    connectable = get_engine()

    with connectable.connect() as connection:
        if connection.dialect.name == "sqlite":
            with sqlite_migration_connection(connection):
                run_in_one_transaction(connection, conf_args, check_sqlite_references)
        else:
            run_in_one_transaction(connection, conf_args)


def run_in_one_transaction(connection, conf_args, before_commit=None):
    context.configure(
        connection=connection,
        target_metadata=get_metadata(),
        # SQLite can roll back DDL too once the connection is set up by
        # sqlite_migration_connection(); Alembic assumes it cannot by default.
        transactional_ddl=True,
        **conf_args
    )
    with context.begin_transaction():
        context.run_migrations()
        store_shipped_outlines(connection)
        if before_commit is not None:
            before_commit(connection)


def store_shipped_outlines(connection):
    """At the newest revision, store the outline files shipped in webapp/outlines/ that are not
    stored yet, in the migration's transaction: after `db upgrade` they can be used."""
    migration = context.get_context()
    if set(migration.get_current_heads()) != set(context.script.get_heads()):
        return  # a downgrade, or an upgrade to an older revision: the schema may not fit the models
    from sqlalchemy.orm import Session

    from webapp.outline_store import store_shipped

    with Session(bind=connection) as session:
        for row in store_shipped(session):
            logger.info("Stored the shipped outline %s@%s", row.code, row.version)


@contextmanager
def sqlite_migration_connection(connection):
    """Set up the migration's own SQLite connection the way SQLite's documented procedure for
    altering a table asks (https://www.sqlite.org/lang_altertable.html#otheralter):

    - foreign keys off: batch mode rebuilds a table (CREATE _alembic_tmp_x, copy, DROP x,
      RENAME), and with foreign keys on, DROP TABLE of a table other rows refer to fails
      (the app turns them on for every connection); they are checked before the commit instead;
    - pysqlite's own transaction handling off (isolation_level None), and an explicit BEGIN
      whenever SQLAlchemy begins a transaction: pysqlite only begins a transaction before
      INSERT/UPDATE/DELETE, so CREATE/DROP/ALTER would otherwise each commit on their own.

    Both are put back before the connection returns to the pool."""
    dbapi_connection = connection.connection.driver_connection
    if connection.in_transaction() or dbapi_connection.in_transaction:
        raise RuntimeError("the migration connection must start outside a transaction")
    saved_isolation_level = dbapi_connection.isolation_level
    foreign_keys = dbapi_connection.execute("PRAGMA foreign_keys").fetchone()[0]

    def begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock now, not halfway through

    dbapi_connection.isolation_level = None
    # PRAGMA foreign_keys is a no-op inside a transaction: set it on the DBAPI connection,
    # before SQLAlchemy begins one.
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    event.listen(connection, "begin", begin)
    try:
        yield
    finally:
        event.remove(connection, "begin", begin)
        if connection.in_transaction():  # only if something failed before Alembic's rollback
            connection.rollback()
        try:
            dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            dbapi_connection.isolation_level = saved_isolation_level
        except Exception:
            # never give a connection set up differently back to the pool
            connection.invalidate()
            raise


def check_sqlite_references(connection):
    """Refuse to commit a migration that leaves a reference to a missing row (SQLite does not check
    them while foreign keys are off); raising here rolls the whole run back."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        details = "; ".join(f"{table} (rowid {rowid}) -> {parent}"
                            for table, rowid, parent, _ in broken[:10])
        raise RuntimeError(
            f"Đã hủy nâng/hạ cấp lược đồ, cơ sở dữ liệu giữ nguyên như trước: {len(broken)} "
            f"tham chiếu khóa ngoại trỏ tới dòng không tồn tại ({details})")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
