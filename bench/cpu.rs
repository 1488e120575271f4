//! Where CPU time went during a trial, read from /proc: how much of a core the measured server
//! and the load generator used, and, on each of the two pinned CPUs, how much stayed idle and
//! how much went to other work (PostgreSQL, other processes, the hypervisor's steal), so each
//! figure can be read for what limited it.

use std::time::Instant;

/// Clock ticks per second of /proc's counters (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

pub struct Sample {
    at: Instant,
    /// The measured instance's ticks, then those of every instance (all pinned to the server CPU).
    server: u64,
    servers: u64,
    generator: u64,
    cpus: Vec<Vec<u64>>,
}

/// CPU use between two samples: cores' worth for the server and the generator, and for each
/// pinned CPU its idle share and the share of work that was neither ours nor idle.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub server: f64,
    /// CPU seconds the measured server used, all threads.
    pub server_seconds: f64,
    pub generator: f64,
    pub server_cpu_idle: f64,
    pub server_cpu_other: f64,
    pub load_cpu_idle: f64,
    pub load_cpu_other: f64,
    /// The larger share of the two pinned CPUs that the hypervisor gave to other machines.
    pub stolen: f64,
}

/// The counters now, for the measured instance `pids[0]` among all instances `pids`; `None`
/// when /proc cannot be read (the figures are then shown without).
pub fn sample(pids: &[u32]) -> Option<Sample> {
    let at = Instant::now();
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpus = stat
        .lines()
        .filter(|line| line.starts_with("cpu") && !line.starts_with("cpu "))
        .map(|line| line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect())
        .collect();
    let mut servers = 0;
    for pid in pids {
        servers += process_ticks(&pid.to_string())?;
    }
    Some(Sample {
        at,
        server: process_ticks(&pids.first()?.to_string())?,
        servers,
        generator: process_ticks("self")?,
        cpus,
    })
}

/// utime + stime of every thread of the process.
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Idle share of `cpu`, the share of its busy time not spent by `ours` ticks, and the share
/// the hypervisor stole.
fn shares(before: &Sample, after: &Sample, cpu: usize, ours: u64) -> Option<(f64, f64, f64)> {
    let (b, a) = (before.cpus.get(cpu)?, after.cpus.get(cpu)?);
    let delta = |i: usize| {
        a.get(i)
            .copied()
            .unwrap_or(0)
            .saturating_sub(b.get(i).copied().unwrap_or(0))
    };
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    let total: u64 = (0..8).map(delta).sum();
    if total == 0 {
        return None;
    }
    let idle = delta(3) + delta(4);
    let other = (total - idle).saturating_sub(ours);
    let share = |ticks: u64| ticks as f64 / total as f64;
    Some((share(idle), share(other), share(delta(7))))
}

pub fn usage(before: &Sample, after: &Sample, server_cpu: usize, load_cpu: usize) -> Usage {
    let seconds = after.at.duration_since(before.at).as_secs_f64().max(f64::EPSILON);
    let ticks = |b: u64, a: u64| a.saturating_sub(b);
    let cores = |t: u64| t as f64 / TICKS_PER_SECOND / seconds;
    let server = ticks(before.server, after.server);
    let generator = ticks(before.generator, after.generator);
    let unknown = (f64::NAN, f64::NAN, 0.0);
    let (server_cpu_idle, server_cpu_other, server_cpu_stolen) =
        shares(before, after, server_cpu, ticks(before.servers, after.servers)).unwrap_or(unknown);
    let (load_cpu_idle, load_cpu_other, load_cpu_stolen) =
        shares(before, after, load_cpu, generator).unwrap_or(unknown);
    Usage {
        server: cores(server),
        server_seconds: server as f64 / TICKS_PER_SECOND,
        generator: cores(generator),
        server_cpu_idle,
        server_cpu_other,
        load_cpu_idle,
        load_cpu_other,
        stolen: server_cpu_stolen.max(load_cpu_stolen),
    }
}
