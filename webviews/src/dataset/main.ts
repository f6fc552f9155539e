// Placeholder until the dataset panel lands.
document.getElementById('app')?.append('TrajLab dataset');
