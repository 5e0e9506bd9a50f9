#!/usr/bin/perl
# Benign: a Perl batch job with a hand-rolled worker pool, the classic
# fork/waitpid loop of many admin scripts.  For each of 5 rounds the parent
# forks 8 children (fork, no exec); each does a little work (checksums a
# chunk of data, sleeps a bit) and exits; the parent waits for all 8 before
# the next round.  Exits 0 if every child did.  Run it only under
# build/contain.
#
#   perl tests/workloads/perl_forker.pl [ROUNDS] [CHILDREN]
use strict;
use warnings;
use POSIX ();
use Time::HiRes qw(sleep);

my $rounds   = shift // 5;
my $children = shift // 8;
my $failed   = 0;

for my $round (1 .. $rounds) {
	my %kids;
	for my $n (1 .. $children) {
		my $pid = fork();
		die "perl_forker: fork: $!\n" unless defined $pid;
		if ($pid == 0) {
			my $sum = 0;
			$sum = ($sum * 31 + $_) % 1000003 for 1 .. 50000 + $n;
			sleep(0.05 + 0.01 * $n);
			POSIX::_exit(0);
		}
		$kids{$pid} = $n;
	}
	for my $pid (keys %kids) {
		waitpid($pid, 0) == $pid or die "perl_forker: waitpid: $!\n";
		$failed++ if $? != 0;
	}
}
print "perl_forker: $rounds rounds of $children children, $failed failed\n";
exit($failed ? 1 : 0);
