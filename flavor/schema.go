package flavor

// AccountsQuery lists the accounts of a server with a third column saying whether
// the account is a role ('Y'/'N'), which account migration skips:
//   - MariaDB 10.0.5+ marks roles in mysql.user.is_role;
//   - MySQL 8.0 keeps roles as ordinary (locked) rows of mysql.user: an account is a
//     role when mysql.role_edges grants it to someone;
//   - MySQL 5.7 and older MariaDB have no roles.
func (f Flavor) AccountsQuery() string {
	switch {
	case f.Kind == MariaDB && f.AtLeast(10, 0, 5):
		return "SELECT User, Host, is_role FROM mysql.user"
	case f.Kind == MySQL && f.AtLeast(8, 0, 0):
		return `SELECT u.User, u.Host, IF(EXISTS(SELECT 1 FROM mysql.role_edges e
			WHERE e.FROM_USER = u.User AND e.FROM_HOST = u.Host), 'Y', 'N') FROM mysql.user u`
	default:
		return "SELECT User, Host, 'N' FROM mysql.user"
	}
}
