// The rule for a table name given to `Olap.insert`, one function for both adapters: each puts the
// name into the text of an INSERT, so anything but a plain identifier could change the statement.

/** `name` or `db.name`, each of ASCII letters, digits and '_'. */
const TABLE = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?$/;

export function assertTableName(table: string): void {
  if (!TABLE.test(table)) throw new RangeError(`invalid table name ${JSON.stringify(table)}`);
}
