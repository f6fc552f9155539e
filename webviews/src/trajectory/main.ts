// Placeholder until the trajectory panel lands.
document.getElementById('app')?.append('TrajLab trajectory');
