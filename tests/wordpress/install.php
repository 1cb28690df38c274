<?php
// Install a fresh WordPress into its database: php install.php (run from the WordPress folder's copy).
// Prints the id of a published article to comment on.
define( 'WP_INSTALLING', true );
$db = new mysqli( '127.0.0.1', 'root', '', '', 3306 );
$name = getenv( 'WP_TEST_DB' );
$db->query( "DROP DATABASE IF EXISTS `$name`" );
$db->query( "CREATE DATABASE `$name` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" );
require getcwd() . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
wp_install( 'Новости Казахстана', 'admin', 'admin@example.kz', true, '', getenv( 'WP_TEST_PASSWORD' ), 'ru_RU' );
update_option( 'permalink_structure', '/%postname%/' );
update_option( 'WPLANG', 'ru_RU' );
switch_theme( 'twentytwentyone' );
$activated = activate_plugin( 'moderation/moderation.php' );
if ( is_wp_error( $activated ) ) {
	fwrite( STDERR, $activated->get_error_message() );
	exit( 1 );
}
echo wp_insert_post( array(
	'post_title'   => 'Аким области ответил на вопросы читателей',
	'post_content' => 'Текст статьи.',
	'post_status'  => 'publish',
	'post_name'    => 'akim-otvetil',
) ), "\n";
