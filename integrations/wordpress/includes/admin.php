<?php
/**
 * wp-admin: the settings page (Settings → Moderation) and the service's column in the comments list.
 */

defined( 'ABSPATH' ) || exit;

add_action( 'admin_init', 'moderation_register_settings' );
function moderation_register_settings() {
	$group = 'moderation';
	register_setting( $group, 'moderation_service_url', array( 'type' => 'string', 'sanitize_callback' => 'moderation_sanitize_url', 'default' => '' ) );
	register_setting( $group, 'moderation_site_key', array( 'type' => 'string', 'sanitize_callback' => 'moderation_sanitize_token', 'default' => '' ) );
	register_setting( $group, 'moderation_webhook_secret', array( 'type' => 'string', 'sanitize_callback' => 'moderation_sanitize_token', 'default' => '' ) );
}

/** An http(s) address without a trailing slash; anything else is refused with a message. */
function moderation_sanitize_url( $value ) {
	$value = trim( (string) $value );
	if ( '' === $value ) {
		return '';
	}
	$parts = wp_parse_url( $value );
	if ( ! $parts || ! in_array( strtolower( $parts['scheme'] ?? '' ), array( 'http', 'https' ), true ) || empty( $parts['host'] ) ) {
		add_settings_error( 'moderation_service_url', 'moderation_service_url', __( 'The service address must start with http:// or https://.', 'moderation' ) );
		return (string) get_option( 'moderation_service_url', '' );
	}
	return rtrim( esc_url_raw( $value, array( 'http', 'https' ) ), '/' );
}

function moderation_sanitize_token( $value ) {
	return preg_replace( '/[^A-Za-z0-9_\-.]/', '', (string) $value );
}

add_action( 'admin_menu', 'moderation_admin_menu' );
function moderation_admin_menu() {
	add_options_page( __( 'Comment moderation', 'moderation' ), __( 'Moderation', 'moderation' ), 'manage_options', 'moderation', 'moderation_settings_page' );
}

add_filter( 'plugin_action_links_' . plugin_basename( MODERATION_PLUGIN_FILE ), 'moderation_action_links' );
function moderation_action_links( $links ) {
	array_unshift( $links, '<a href="' . esc_url( admin_url( 'options-general.php?page=moderation' ) ) . '">' . esc_html__( 'Settings', 'moderation' ) . '</a>' );
	return $links;
}

function moderation_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$webhook = rest_url( 'moderation/v1/webhook' );
	$waiting = count( moderation_comments_with( '_moderation_unsent' ) );
	$error   = get_option( 'moderation_last_error' );
	$check   = get_transient( 'moderation_check_' . get_current_user_id() );
	delete_transient( 'moderation_check_' . get_current_user_id() );
	?>
	<div class="wrap">
		<h1><?php esc_html_e( 'Comment moderation', 'moderation' ); ?></h1>
		<p><?php esc_html_e( 'Every new comment waits for the moderation service, which publishes it, holds it for a moderator or marks it as spam. What you approve, unapprove, mark as spam or trash here is reported to the service and teaches it.', 'moderation' ); ?></p>
		<?php if ( $check ) : ?>
			<div class="notice notice-<?php echo esc_attr( $check['ok'] ? 'success' : 'error' ); ?>"><p><?php echo esc_html( $check['message'] ); ?></p></div>
		<?php endif; ?>
		<form method="post" action="options.php">
			<?php settings_fields( 'moderation' ); ?>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><label for="moderation_service_url"><?php esc_html_e( 'Service address', 'moderation' ); ?></label></th>
					<td><input name="moderation_service_url" id="moderation_service_url" type="url" class="regular-text code" value="<?php echo esc_attr( get_option( 'moderation_service_url', '' ) ); ?>" placeholder="http://127.0.0.1:5000">
					<p class="description"><?php esc_html_e( 'Where the service runs, any port; it may be on this server or your network.', 'moderation' ); ?></p></td>
				</tr>
				<tr>
					<th scope="row"><label for="moderation_site_key"><?php esc_html_e( 'Site key', 'moderation' ); ?></label></th>
					<td><input name="moderation_site_key" id="moderation_site_key" type="password" class="regular-text code" autocomplete="off" value="<?php echo esc_attr( get_option( 'moderation_site_key', '' ) ); ?>">
					<p class="description"><?php esc_html_e( 'Printed once by: moderation site add <site name>', 'moderation' ); ?></p></td>
				</tr>
				<tr>
					<th scope="row"><label for="moderation_webhook_secret"><?php esc_html_e( 'Webhook secret', 'moderation' ); ?></label></th>
					<td><input name="moderation_webhook_secret" id="moderation_webhook_secret" type="password" class="regular-text code" autocomplete="off" value="<?php echo esc_attr( get_option( 'moderation_webhook_secret', '' ) ); ?>">
					<p class="description"><?php esc_html_e( 'Give the service this site\'s webhook address, then paste the secret it prints:', 'moderation' ); ?><br>
					<code>moderation site webhook &lt;site name&gt; <?php echo esc_html( $webhook ); ?></code></p></td>
				</tr>
			</table>
			<?php submit_button(); ?>
		</form>
		<h2><?php esc_html_e( 'Status', 'moderation' ); ?></h2>
		<p><?php echo esc_html( sprintf( /* translators: %d: number of comments */ __( 'Comments waiting to be sent: %d', 'moderation' ), $waiting ) ); ?></p>
		<?php if ( is_array( $error ) ) : ?>
			<p><?php echo esc_html( sprintf( /* translators: 1: date and time, 2: error message */ __( 'Last error (%1$s): %2$s', 'moderation' ), wp_date( 'Y-m-d H:i', (int) $error['time'] ), $error['message'] ) ); ?></p>
		<?php endif; ?>
		<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
			<input type="hidden" name="action" value="moderation_check">
			<?php wp_nonce_field( 'moderation_check' ); ?>
			<?php submit_button( __( 'Check the connection', 'moderation' ), 'secondary', 'submit', false ); ?>
		</form>
	</div>
	<?php
}

/** «Check the connection»: a request with the site's key; a known key gets 404 for a comment that is not its own. */
add_action( 'admin_post_moderation_check', 'moderation_check_connection' );
function moderation_check_connection() {
	if ( ! current_user_can( 'manage_options' ) ) {
		wp_die( esc_html__( 'Sorry, you are not allowed to do that.', 'moderation' ), 403 );
	}
	check_admin_referer( 'moderation_check' );
	$answer = moderation_request( 'GET', '/api/v1/comments/2147483647' );
	if ( is_wp_error( $answer ) ) {
		$check = array( 'ok' => false, 'message' => sprintf( __( 'The service cannot be reached: %s', 'moderation' ), $answer->get_error_message() ) );
	} elseif ( 401 === $answer['code'] ) {
		$check = array( 'ok' => false, 'message' => __( 'The service does not accept the site key.', 'moderation' ) );
	} elseif ( in_array( $answer['code'], array( 200, 404 ), true ) ) {
		$check = array( 'ok' => true, 'message' => __( 'Connected: the service accepts the site key.', 'moderation' ) );
	} else {
		$check = array( 'ok' => false, 'message' => sprintf( __( 'The service answered HTTP %d.', 'moderation' ), $answer['code'] ) );
	}
	set_transient( 'moderation_check_' . get_current_user_id(), $check, MINUTE_IN_SECONDS );
	wp_safe_redirect( admin_url( 'options-general.php?page=moderation' ) );
	exit;
}

add_action( 'admin_notices', 'moderation_admin_notice' );
function moderation_admin_notice() {
	$screen = get_current_screen();
	if ( moderation_configured() || ! $screen || ! in_array( $screen->id, array( 'edit-comments', 'plugins' ), true ) || ! current_user_can( 'manage_options' ) ) {
		return;
	}
	printf(
		'<div class="notice notice-warning"><p>%s <a href="%s">%s</a></p></div>',
		esc_html__( 'Comments are not moderated yet: set the service address and the site key.', 'moderation' ),
		esc_url( admin_url( 'options-general.php?page=moderation' ) ),
		esc_html__( 'Settings', 'moderation' )
	);
}

/** The service's column in Comments. */
add_filter( 'manage_edit-comments_columns', 'moderation_comments_column' );
function moderation_comments_column( $columns ) {
	$columns['moderation'] = __( 'Moderation service', 'moderation' );
	return $columns;
}

add_action( 'manage_comments_custom_column', 'moderation_comments_column_content', 10, 2 );
function moderation_comments_column_content( $column, $comment_id ) {
	if ( 'moderation' !== $column ) {
		return;
	}
	echo wp_kses_post( moderation_column_html( (int) $comment_id ) );
}

/** The decision, scores and reasons of one comment, as the column shows them. */
function moderation_column_html( int $comment_id ): string {
	$error = get_comment_meta( $comment_id, '_moderation_error', true );
	if ( $error ) {
		return '<strong>' . esc_html__( 'Refused by the service', 'moderation' ) . '</strong><br>' . esc_html( $error );
	}
	if ( get_comment_meta( $comment_id, '_moderation_unsent', true ) ) {
		$attempts = (int) get_comment_meta( $comment_id, '_moderation_attempts', true );
		return esc_html( sprintf( __( 'Waiting to be sent (attempts: %d)', 'moderation' ), $attempts ) );
	}
	$status = (string) get_comment_meta( $comment_id, '_moderation_status', true );
	if ( '' === $status ) {
		return '—';
	}
	$labels = array(
		'pending'  => __( 'Being checked', 'moderation' ),
		'approved' => __( 'Approved', 'moderation' ),
		'held'     => __( 'Held for a moderator', 'moderation' ),
		'spam'     => __( 'Spam', 'moderation' ),
		'rejected' => __( 'Rejected', 'moderation' ),
	);
	$html   = '<strong class="moderation-status moderation-' . esc_attr( $status ) . '">' . esc_html( $labels[ $status ] ?? $status ) . '</strong>';
	$scores = get_comment_meta( $comment_id, '_moderation_scores', true );
	if ( is_array( $scores ) ) {
		foreach ( array( 'toxicity' => __( 'toxicity', 'moderation' ), 'spam' => __( 'spam', 'moderation' ) ) as $key => $label ) {
			if ( isset( $scores[ $key ] ) && is_numeric( $scores[ $key ] ) ) {
				$html .= '<br>' . esc_html( $label . ' ' . number_format_i18n( (float) $scores[ $key ], 2 ) );
			}
		}
	}
	$reasons = get_comment_meta( $comment_id, '_moderation_reasons', true );
	if ( is_array( $reasons ) && $reasons ) {
		$parts = array();
		foreach ( $reasons as $reason ) {
			$spans   = isset( $reason['spans'] ) && is_array( $reason['spans'] ) ? array_slice( array_map( 'strval', $reason['spans'] ), 0, 3 ) : array();
			$parts[] = esc_html( (string) ( $reason['code'] ?? '' ) ) . ( $spans ? ' <em>(' . esc_html( implode( ', ', $spans ) ) . ')</em>' : '' );
		}
		$html .= '<br>' . esc_html__( 'Reasons:', 'moderation' ) . ' ' . implode( '; ', $parts );
	}
	return $html;
}
